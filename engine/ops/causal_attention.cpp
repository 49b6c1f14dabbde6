// causal_scores and causal_weighted_sum: the causal attention products on the block kernels of
// kernels/causal_products.hpp. Their gradients are the same three block products again:
// d scale tril(q k^T) gives dq = scale tril(g) k and dk = scale tril(g)^T q; d tril(p) v gives
// dp = tril(g v^T) and dv = tril(p)^T g. causal_attention fuses the chain scores -> normaliser
// -> weighted sum per (batch, head) matrix (kernels/causal_attention.hpp).
#include "engine/autograd/tape.hpp"
#include "engine/kernels/causal_attention.hpp"
#include "engine/kernels/causal_products.hpp"
#include "engine/normalizers.hpp"
#include "engine/ops.hpp"

namespace mmx {

Tensor causal_scores(const Tensor& q, const Tensor& k, float scale) {
  Tensor s = kernels::causal_scores_forward(q, k, scale);
  if (autograd::needs_grad({q, k}))
    autograd::record("causal_scores", {q, k}, s, {q, k}, [q, k, scale](const Tensor& gs) {
      Tensor dq, dk;
      if (q.requires_grad()) dq = kernels::causal_weighted_sum_forward(gs, k, scale);
      if (k.requires_grad()) dk = kernels::causal_transposed_sum_forward(gs, q, scale);
      return std::vector<Tensor>{dq, dk};
    });
  return s;
}

Tensor causal_weighted_sum(const Tensor& p, const Tensor& v) {
  Tensor y = kernels::causal_weighted_sum_forward(p, v);
  if (autograd::needs_grad({p, v}))
    autograd::record("causal_weighted_sum", {p, v}, y, {p, v}, [p, v](const Tensor& gy) {
      Tensor dp, dv;
      if (p.requires_grad()) dp = kernels::causal_scores_forward(gy, v);
      if (v.requires_grad()) dv = kernels::causal_transposed_sum_forward(p, gy);
      return std::vector<Tensor>{dp, dv};
    });
  return y;
}

Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, float scale,
                        const MultiMaxParams* multimax) {
  kernels::AttentionNormalizer normalizer;
  std::vector<Tensor> inputs{q, k, v};
  if (multimax) {
    normalizer = {multimax->t, multimax->r, multimax->order};
    inputs.push_back(multimax->t);
    inputs.push_back(multimax->r);
  }
  const kernels::CausalAttention out =
      kernels::causal_attention_forward(q, k, v, scale, normalizer);
  Tensor y = out.y;
  if (autograd::needs_grad(inputs)) {
    std::vector<Tensor> saved = inputs;
    saved.push_back(out.p);
    if (multimax) saved.push_back(out.scores);
    autograd::record("causal_attention", inputs, y, saved,
                     [q, k, v, out, scale, normalizer](const Tensor& gy) {
                       kernels::CausalAttentionGradients g = kernels::causal_attention_backward(
                           q, k, v, out, gy, scale, normalizer);
                       std::vector<Tensor> grads{g.dq, g.dk, g.dv};
                       if (normalizer.is_multimax()) {
                         grads.push_back(g.dt);
                         grads.push_back(g.dr);
                       }
                       return grads;
                     });
  }
  return y;
}

}  // namespace mmx
