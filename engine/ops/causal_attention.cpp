// causal_scores and causal_weighted_sum: the causal attention products on the block kernels of
// kernels/causal_products.hpp. Their gradients are the same three block products again:
// d scale tril(q k^T) gives dq = scale tril(g) k and dk = scale tril(g)^T q; d tril(p) v gives
// dp = tril(g v^T) and dv = tril(p)^T g. causal_self_attention fuses the chain scores -> normalizer
// -> weighted sum per (batch, head) matrix (kernels/causal_attention.hpp), reading the heads
// from the qkv projection and writing y and the qkv gradient in place: no head copies.
#include <optional>

#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/kernels/causal_attention.hpp"
#include "engine/kernels/causal_products.hpp"
#include "engine/normalizers.hpp"
#include "engine/ops.hpp"
#include "engine/precision.hpp"

namespace mmx {

// Each product runs in the calling thread's matmul precision (engine/precision.hpp) where bf16
// pays (kernels::causal_products_precision), the backward's in the precision of its forward.
Tensor causal_scores(const Tensor& q, const Tensor& k, float scale) {
  const MatmulPrecision precision = kernels::causal_products_precision(matmul_precision());
  Tensor s = kernels::causal_scores_forward(q, k, scale, precision);
  if (autograd::needs_grad({q, k}))
    autograd::record("causal_scores", {q, k}, s, {q, k},
                     [q, k, scale, precision](const Tensor& gs) {
                       Tensor dq, dk;
                       if (q.requires_grad())
                         dq = kernels::causal_weighted_sum_forward(gs, k, scale, precision);
                       if (k.requires_grad())
                         dk = kernels::causal_transposed_sum_forward(gs, q, scale, precision);
                       return std::vector<Tensor>{dq, dk};
                     });
  return s;
}

Tensor causal_weighted_sum(const Tensor& p, const Tensor& v) {
  const MatmulPrecision precision = kernels::causal_products_precision(matmul_precision());
  Tensor y = kernels::causal_weighted_sum_forward(p, v, 1.0f, precision);
  if (autograd::needs_grad({p, v}))
    autograd::record("causal_weighted_sum", {p, v}, y, {p, v}, [p, v, precision](const Tensor& gy) {
      Tensor dp, dv;
      if (p.requires_grad()) dp = kernels::causal_scores_forward(gy, v, 1.0f, precision);
      if (v.requires_grad()) dv = kernels::causal_transposed_sum_forward(p, gy, 1.0f, precision);
      return std::vector<Tensor>{dp, dv};
    });
  return y;
}

namespace {
// Heads [B, H, T, dh] of part `which` (0 q, 1 k, 2 v) of x [B, T, parts H dh]: views, no tape.
Tensor heads_view(const Tensor& x, int64_t heads, int64_t parts, int64_t which) {
  const int64_t B = x.size(0), T = x.size(1), dh = x.size(2) / (parts * heads);
  return x.detach()
      .reshape({B, T, parts * heads, dh})
      .permute({0, 2, 1, 3})
      .slice(1, which * heads, (which + 1) * heads);
}
}  // namespace

Tensor causal_self_attention(const Tensor& qkv, int64_t heads, float scale,
                             const MultiMaxParams* multimax) {
  MMX_CHECK(qkv.dim() == 3 && heads > 0 && qkv.size(2) % (3 * heads) == 0,
            "causal_self_attention: need qkv [B, T, 3 x heads x head size], got ",
            to_string(qkv.shape()), " for ", heads, " heads");
  // The closure keeps its own copy of (t, r, order); none (SoftMax) when multimax is null.
  const std::optional<MultiMaxParams> normalizer =
      multimax ? std::optional<MultiMaxParams>(*multimax) : std::nullopt;
  std::vector<Tensor> inputs{qkv};
  if (multimax) {
    inputs.push_back(multimax->t);
    inputs.push_back(multimax->r);
  }
  const Tensor source = qkv.contiguous();  // the heads are views of it
  // y written head by head straight into [B, T, H dh]: no transpose copy before the projection.
  Tensor y = Tensor::empty({qkv.size(0), qkv.size(1), qkv.size(2) / 3});
  // Under NoGrad (evaluation) nothing is kept: the weights stay in each thread's cache.
  const bool for_backward = autograd::needs_grad(inputs);
  const MatmulPrecision precision = kernels::causal_products_precision(matmul_precision());
  const kernels::CausalAttention out = kernels::causal_attention_forward(
      heads_view(source, heads, 3, 0), heads_view(source, heads, 3, 1),
      heads_view(source, heads, 3, 2), scale, multimax, heads_view(y, heads, 1, 0), for_backward,
      precision);
  if (for_backward) {
    std::vector<Tensor> saved = inputs;
    for (const Tensor& kept : {out.p, out.scores, out.norms})
      if (kept.defined()) saved.push_back(kept);
    autograd::record("causal_self_attention", inputs, y, saved,
                     [source, out, heads, scale, normalizer, precision](const Tensor& gy) {
                       // dq, dk, dv straight into their windows of one [B, T, 3 H dh] gradient.
                       Tensor dqkv = Tensor::empty(source.shape());
                       kernels::CausalAttentionGradients into;
                       into.dq = heads_view(dqkv, heads, 3, 0);
                       into.dk = heads_view(dqkv, heads, 3, 1);
                       into.dv = heads_view(dqkv, heads, 3, 2);
                       const kernels::CausalAttentionGradients g =
                           kernels::causal_attention_backward(
                               heads_view(source, heads, 3, 0), heads_view(source, heads, 3, 1),
                               heads_view(source, heads, 3, 2), out, heads_view(gy, heads, 1, 0),
                               scale, normalizer ? &*normalizer : nullptr, into, precision);
                       std::vector<Tensor> grads{dqkv};
                       if (normalizer) {
                         grads.push_back(g.dt);
                         grads.push_back(g.dr);
                       }
                       return grads;
                     });
  }
  return y;
}

}  // namespace mmx
