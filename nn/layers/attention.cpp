#include "nn/layers/attention.hpp"

#include <cmath>
#include <limits>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/normalizers.hpp"
#include "engine/ops.hpp"
#include "nn/layers/normalizers.hpp"

namespace mmx::nn {

namespace {

// A Linear d_in -> d_out when `wanted`, drawn from `gen` in member order, else none.
std::optional<Linear> linear_if(bool wanted, int64_t d_in, int64_t d_out, Generator& gen) {
  if (!wanted) return std::nullopt;
  return std::optional<Linear>(std::in_place, d_in, d_out, gen);
}

}  // namespace

Attention::Attention(const AttentionOptions& options, Generator& init_gen, Generator& dropout_gen)
    : kind_(options.normalizer.kind),
      d_model_(options.d_model),
      heads_(options.heads),
      causal_(options.causal),
      qkv_(linear_if(options.projection == AttentionProjection::Fused, options.d_model,
                     3 * options.d_model, init_gen)),
      q_(linear_if(options.projection == AttentionProjection::Split, options.d_model,
                   options.d_model, init_gen)),
      kv_(linear_if(options.projection == AttentionProjection::Split, options.d_model,
                    2 * options.d_model, init_gen)),
      proj_(options.d_model, options.d_model, init_gen),
      attention_dropout_(options.dropout, dropout_gen),
      residual_dropout_(options.dropout, dropout_gen) {
  options.validate("Attention");
  if (qkv_) register_module("qkv", *qkv_);
  if (q_) register_module("q", *q_);
  if (kv_) register_module("kv", *kv_);
  register_module("proj", proj_);
  if (kind_ == AttentionKind::MultiMax) {
    multimax_ =
        std::make_unique<MultiMaxParameters>(options.normalizer.multimax_per_head ? heads_ : 0,
                                             options.normalizer.multimax_order, init_gen);
    register_module("multimax", *multimax_);
  }
  register_module("attention_dropout", attention_dropout_);
  register_module("residual_dropout", residual_dropout_);
}

Tensor Attention::project_qkv(const Tensor& x) const {
  MMX_CHECK(x.dim() == 3 && x.size(2) == d_model_, "Attention: expected x [B, T, ", d_model_,
            "], got ", to_string(x.shape()));
  return qkv_->forward(x);
}

Tensor Attention::split_heads(const Tensor& x) const {
  const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
  return permute(reshape(x, {B, T, heads_, D / heads_}), {0, 2, 1, 3});
}

KeyValues Attention::project_key_values(const Tensor& memory) const {
  MMX_CHECK(kv_, "Attention::project_key_values: needs the Split projection");
  MMX_CHECK(memory.dim() == 3 && memory.size(2) == d_model_, "Attention: expected memory [B, S, ",
            d_model_, "], got ", to_string(memory.shape()));
  Tensor both = kv_->forward(memory);  // [B, S, 2D]: keys then values
  return {split_heads(slice(both, 2, 0, d_model_)),
          split_heads(slice(both, 2, d_model_, 2 * d_model_))};
}

// Fused: one matmul for q, k and v, whose heads are strided views of its output, never copies.
Attention::Heads Attention::project_heads(const Tensor& x) const {
  if (!fused_projection()) {
    KeyValues kv = project_key_values(x);
    return {split_heads(q_->forward(x)), kv.keys, kv.values};
  }
  const int64_t B = x.size(0), T = x.size(1), dh = d_model_ / heads_;
  // [B, T, 3D] -> [B, T, 3H, dh] -> [B, 3H, T, dh]: q, k, v are heads [0,H), [H,2H), [2H,3H).
  Tensor all = permute(reshape(project_qkv(x), {B, T, 3 * heads_, dh}), {0, 2, 1, 3});
  return {slice(all, 1, 0, heads_), slice(all, 1, heads_, 2 * heads_),
          slice(all, 1, 2 * heads_, 3 * heads_)};
}

Tensor Attention::normalize(const Tensor& scores, const Tensor& mask, bool causal) const {
  // MultiMax reads its (t, r) through the table's inputs; the others ignore them.
  return normalizer(kind_).apply(scores, {.mask = mask,
                                          .causal = causal,
                                          .multimax = multimax_ ? &multimax_->params() : nullptr,
                                          .training = is_training(),
                                          .temperature = 1.0f});
}

float Attention::scale() const {
  return 1.0f / std::sqrt(static_cast<float>(d_model_ / heads_));
}

Tensor Attention::attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                         bool causal, AttentionMap* capture) const {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), dh = q.size(3);
  // Plain causal self-attention skips the key blocks above the diagonal (their weights are 0);
  // its scores are then 0 there, which the causal normalizer and the measures mask anyway. The
  // encoder-decoder (Split) keeps the plain products its results were made with.
  const bool lower_only = fused_projection() && causal && !mask.defined() && k.size(2) == T;
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

Tensor Attention::project_out(const Tensor& merged) const {
  return residual_dropout_.forward(proj_.forward(merged));
}

Tensor Attention::forward(const Tensor& x, AttentionMap* capture) const {
  if (!fused_projection()) return forward(x, x, Tensor(), capture);
  // SoftMax and MultiMax run fused on the qkv projection itself (causal_self_attention: no
  // score-sized tensors for the whole batch, no head copies), unless the weights must be seen
  // (capture) or dropped out.
  const bool fused = causal_ && !capture && !attention_dropout_.active() &&
                     (kind_ == AttentionKind::Softmax || kind_ == AttentionKind::MultiMax);
  if (fused)
    return project_out(causal_self_attention(project_qkv(x), heads_, scale(),
                                             multimax_ ? &multimax_->params() : nullptr));
  Heads h = project_heads(x);
  return attend(h.q, h.k, h.v, Tensor(), causal_, capture);
}

Tensor Attention::forward(const Tensor& queries, const Tensor& memory, const Tensor& key_mask,
                          AttentionMap* capture) const {
  MMX_CHECK(q_, "Attention: queries attend to a second sequence only with the Split projection");
  MMX_CHECK(queries.dim() == 3 && queries.size(2) == d_model_ && memory.dim() == 3 &&
                memory.size(0) == queries.size(0),
            "Attention: queries ", to_string(queries.shape()), " and memory ",
            to_string(memory.shape()), " must be [B, T, ", d_model_, "], [B, S, ", d_model_, "]");
  MMX_CHECK(!causal_ || queries.size(1) == memory.size(1),
            "Attention: causal attention needs as many queries as keys, got ",
            to_string(queries.shape()), " and ", to_string(memory.shape()));
  KeyValues kv = project_key_values(memory);
  return attend(split_heads(q_->forward(queries)), kv.keys, kv.values, key_mask, causal_, capture);
}

Tensor Attention::forward_with(const Tensor& queries, const KeyValues& kv,
                               const Tensor& key_mask) const {
  MMX_CHECK(q_, "Attention::forward_with: needs the Split projection");
  NoGrad no_grad;
  return attend(split_heads(q_->forward(queries)), kv.keys, kv.values, key_mask, false, nullptr);
}

Tensor Attention::forward_cached(const Tensor& x, Tensor& keys, Tensor& values,
                                 int64_t start) const {
  MMX_CHECK(causal_, "Attention::forward_cached: a non-causal layer has no KV cache");
  NoGrad no_grad;
  MMX_CHECK(x.dim() == 3 && x.size(2) == d_model_, "Attention: expected x [B, T, ", d_model_,
            "], got ", to_string(x.shape()));
  Heads h = project_heads(x);
  const int64_t T = x.size(1), end = start + T;
  MMX_CHECK(keys.dim() == 4 && keys.shape() == values.shape() && keys.size(0) == x.size(0) &&
                keys.size(1) == heads_ && end <= keys.size(2) && start >= 0,
            "Attention::forward_cached: positions [", start, ", ", end, ") of x ",
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
