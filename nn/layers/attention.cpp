#include "nn/layers/attention.hpp"

#include <cmath>
#include <limits>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/normalizers.hpp"
#include "engine/ops.hpp"
#include "nn/layers/normalizers.hpp"

namespace mmx::nn {

CausalSelfAttention::CausalSelfAttention(const GPTConfig& config, Generator& init_gen,
                                         Generator& dropout_gen, bool causal)
    : kind_(config.attention),
      heads_(config.heads),
      causal_(causal),
      qkv_(config.d_model, 3 * config.d_model, init_gen),
      proj_(config.d_model, config.d_model, init_gen),
      attention_dropout_(config.dropout, dropout_gen),
      residual_dropout_(config.dropout, dropout_gen) {
  config.validate();
  register_module("qkv", qkv_);
  register_module("proj", proj_);
  if (kind_ == AttentionKind::MultiMax) {
    multimax_ = std::make_unique<MultiMaxParameters>(config.multimax_per_head ? heads_ : 0,
                                                     config.multimax_order, init_gen);
    register_module("multimax", *multimax_);
  }
  register_module("attention_dropout", attention_dropout_);
  register_module("residual_dropout", residual_dropout_);
}

Tensor CausalSelfAttention::project_qkv(const Tensor& x) const {
  MMX_CHECK(x.dim() == 3 && x.size(2) == qkv_.weight().size(1),
            "CausalSelfAttention: expected x [B, T, ", qkv_.weight().size(1), "], got ",
            to_string(x.shape()));
  return qkv_.forward(x);
}

// One matmul for q, k and v; the heads are strided views of its output, never copies.
CausalSelfAttention::Heads CausalSelfAttention::project_heads(const Tensor& x) const {
  const int64_t B = x.size(0), T = x.size(1), D = x.size(2), dh = D / heads_;
  // [B, T, 3D] -> [B, T, 3H, dh] -> [B, 3H, T, dh]: q, k, v are heads [0,H), [H,2H), [2H,3H).
  Tensor all = permute(reshape(project_qkv(x), {B, T, 3 * heads_, dh}), {0, 2, 1, 3});
  return {slice(all, 1, 0, heads_), slice(all, 1, heads_, 2 * heads_),
          slice(all, 1, 2 * heads_, 3 * heads_)};
}

Tensor CausalSelfAttention::normalize(const Tensor& scores, const Tensor& mask, bool causal) const {
  // MultiMax reads its (t, r) through the table's inputs; the others ignore them.
  const MultiMaxParams params = multimax_ ? multimax_->params() : MultiMaxParams{};
  return normalizer(kind_).apply(scores, {.mask = mask,
                                          .causal = causal,
                                          .multimax = multimax_ ? &params : nullptr,
                                          .training = is_training(),
                                          .temperature = 1.0f});
}

float CausalSelfAttention::scale() const {
  return 1.0f / std::sqrt(static_cast<float>(qkv_.weight().size(1) / heads_));
}

Tensor CausalSelfAttention::attend(const Tensor& q, const Tensor& k, const Tensor& v,
                                   const Tensor& mask, bool causal, AttentionMap* capture) const {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), dh = q.size(3);
  // Plain causal self-attention skips the key blocks above the diagonal (their weights are 0);
  // its scores are then 0 there, which the causal normalizer and the measures mask anyway.
  const bool lower_only = causal && !mask.defined() && k.size(2) == T;
  // The plain path scales q (T x dh), cheaper than scaling the scores (T x S); the causal
  // kernel scales each score as it stores it, which costs nothing.
  Tensor scores = lower_only ? causal_scores(q, k, scale())  // scaled as it is stored
                             : matmul(mul(q, scale()), transpose(k, -2, -1));  // [B, H, T, S]
  Tensor p = normalize(scores, mask, causal);
  if (capture) *capture = capture_attention_map(scores, p, mask, causal, kind_, multimax_.get());
  const Tensor kept = attention_dropout_.forward(p);
  Tensor heads = lower_only ? causal_weighted_sum(kept, v) : matmul(kept, v);  // [B, H, T, dh]
  return project_out(reshape(transpose(heads, 1, 2), {B, T, H * dh}));
}

Tensor CausalSelfAttention::project_out(const Tensor& merged) const {
  return residual_dropout_.forward(proj_.forward(merged));
}

Tensor CausalSelfAttention::forward(const Tensor& x, AttentionMap* capture) const {
  // SoftMax and MultiMax run fused on the qkv projection itself (causal_self_attention: no
  // score-sized tensors for the whole batch, no head copies), unless the weights must be seen
  // (capture) or dropped out.
  const bool fused = causal_ && !capture && !attention_dropout_.active() &&
                     (kind_ == AttentionKind::Softmax || kind_ == AttentionKind::MultiMax);
  if (fused) {
    const MultiMaxParams params = multimax_ ? multimax_->params() : MultiMaxParams{};
    return project_out(
        causal_self_attention(project_qkv(x), heads_, scale(), multimax_ ? &params : nullptr));
  }
  Heads h = project_heads(x);
  return attend(h.q, h.k, h.v, Tensor(), causal_, capture);
}

Tensor CausalSelfAttention::forward_cached(const Tensor& x, Tensor& keys, Tensor& values,
                                           int64_t start) const {
  MMX_CHECK(causal_, "CausalSelfAttention::forward_cached: a non-causal layer has no KV cache");
  NoGrad no_grad;
  Heads h = project_heads(x);
  const int64_t T = x.size(1), end = start + T;
  MMX_CHECK(keys.dim() == 4 && keys.shape() == values.shape() && keys.size(0) == x.size(0) &&
                keys.size(1) == heads_ && end <= keys.size(2) && start >= 0,
            "CausalSelfAttention::forward_cached: positions [", start, ", ", end, ") of x ",
            to_string(x.shape()), " do not fit the cache ", to_string(keys.shape()));
  slice(keys, 2, start, end).copy_(h.k);
  slice(values, 2, start, end).copy_(h.v);
  Tensor k = slice(keys, 2, 0, end), v = slice(values, 2, 0, end);
  // Query i sits at position start + i and sees keys [0, start + i]. The normalizer's causal
  // flag aligns query 0 with key 0, so it fits only an empty prefix; a single query sees every
  // cached key; otherwise an explicit mask shifts the diagonal by `start`.
  if (start == 0) return attend(h.q, k, v, Tensor(), /*causal=*/true, nullptr);
  if (T == 1) return attend(h.q, k, v, Tensor(), /*causal=*/false, nullptr);
  Tensor mask = Tensor::zeros({T, end});
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = start + i + 1; j < end; ++j)
      mask.set({i, j}, -std::numeric_limits<float>::infinity());
  return attend(h.q, k, v, mask, /*causal=*/false, nullptr);
}

}  // namespace mmx::nn
