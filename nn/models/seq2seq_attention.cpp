#include "nn/models/seq2seq_attention.hpp"

#include <cmath>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/ops.hpp"
#include "nn/layers/normalizers.hpp"

namespace mmx::nn {

Seq2SeqAttention::Seq2SeqAttention(const Seq2SeqAttentionOptions& options, Generator& init_gen,
                                   Generator& dropout_gen)
    : kind_(options.kind),
      heads_(options.heads),
      causal_(options.causal),
      q_(options.d_model, options.d_model, init_gen),
      kv_(options.d_model, 2 * options.d_model, init_gen),
      proj_(options.d_model, options.d_model, init_gen),
      attention_dropout_(options.dropout, dropout_gen),
      residual_dropout_(options.dropout, dropout_gen) {
  MMX_CHECK(options.d_model > 0 && options.heads > 0 && options.d_model % options.heads == 0,
            "Seq2SeqAttention: heads (", options.heads, ") must divide d_model (", options.d_model,
            ")");
  register_module("q", q_);
  register_module("kv", kv_);
  register_module("proj", proj_);
  if (kind_ == AttentionKind::MultiMax) {
    multimax_ = std::make_unique<MultiMaxParameters>(options.multimax_per_head ? heads_ : 0,
                                                     options.multimax_order, init_gen);
    register_module("multimax", *multimax_);
  }
  register_module("attention_dropout", attention_dropout_);
  register_module("residual_dropout", residual_dropout_);
}

Tensor Seq2SeqAttention::split_heads(const Tensor& x) const {
  const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
  return permute(reshape(x, {B, T, heads_, D / heads_}), {0, 2, 1, 3});
}

KeyValues Seq2SeqAttention::project_key_values(const Tensor& memory) const {
  MMX_CHECK(memory.dim() == 3 && memory.size(2) == kv_.weight().size(1),
            "Seq2SeqAttention: expected memory [B, S, ", kv_.weight().size(1), "], got ",
            to_string(memory.shape()));
  const int64_t D = memory.size(2);
  Tensor both = kv_.forward(memory);  // [B, S, 2D]: keys then values
  return {split_heads(slice(both, 2, 0, D)), split_heads(slice(both, 2, D, 2 * D))};
}

Tensor Seq2SeqAttention::attend(const Tensor& q, const Tensor& k, const Tensor& v,
                                const Tensor& key_mask, bool causal, AttentionMap* capture) const {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), dh = q.size(3);
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  Tensor scores = matmul(mul(q, scale), transpose(k, -2, -1));  // [B, H, T, S]
  // MultiMax reads its (t, r) through the table's inputs; the others ignore them.
  const MultiMaxParams params = multimax_ ? multimax_->params() : MultiMaxParams{};
  const Tensor p = normalizer(kind_).apply(scores, {.mask = key_mask,
                                                    .causal = causal,
                                                    .multimax = multimax_ ? &params : nullptr,
                                                    .training = is_training(),
                                                    .temperature = 1.0f});
  if (capture)
    *capture = capture_attention_map(scores, p, key_mask, causal, kind_, multimax_.get());
  Tensor heads = matmul(attention_dropout_.forward(p), v);  // [B, H, T, dh]
  Tensor merged = reshape(transpose(heads, 1, 2), {B, T, H * dh});
  return residual_dropout_.forward(proj_.forward(merged));
}

Tensor Seq2SeqAttention::forward(const Tensor& queries, const Tensor& memory,
                                 const Tensor& key_mask, AttentionMap* capture) const {
  MMX_CHECK(queries.dim() == 3 && queries.size(2) == q_.weight().size(1) && memory.dim() == 3 &&
                memory.size(0) == queries.size(0),
            "Seq2SeqAttention: queries ", to_string(queries.shape()), " and memory ",
            to_string(memory.shape()), " must be [B, T, ", q_.weight().size(1), "], [B, S, ",
            q_.weight().size(1), "]");
  MMX_CHECK(!causal_ || queries.size(1) == memory.size(1),
            "Seq2SeqAttention: causal attention needs as many queries as keys, got ",
            to_string(queries.shape()), " and ", to_string(memory.shape()));
  KeyValues kv = project_key_values(memory);
  return attend(split_heads(q_.forward(queries)), kv.keys, kv.values, key_mask, causal_, capture);
}

Tensor Seq2SeqAttention::forward_with(const Tensor& queries, const KeyValues& kv,
                                      const Tensor& key_mask) const {
  NoGrad no_grad;
  return attend(split_heads(q_.forward(queries)), kv.keys, kv.values, key_mask, false, nullptr);
}

Tensor Seq2SeqAttention::forward_step(const Tensor& x, Tensor& keys, Tensor& values,
                                      int64_t position) const {
  NoGrad no_grad;
  MMX_CHECK(x.dim() == 3 && x.size(1) == 1 && keys.dim() == 4 && keys.shape() == values.shape() &&
                keys.size(0) == x.size(0) && keys.size(1) == heads_ && position >= 0 &&
                position < keys.size(2),
            "Seq2SeqAttention::forward_step: x ", to_string(x.shape()), " at position ", position,
            " does not fit the cache ", to_string(keys.shape()));
  KeyValues kv = project_key_values(x);
  slice(keys, 2, position, position + 1).copy_(kv.keys);
  slice(values, 2, position, position + 1).copy_(kv.values);
  // One query at the newest position sees every cached key: no mask needed.
  return attend(split_heads(q_.forward(x)), slice(keys, 2, 0, position + 1),
                slice(values, 2, 0, position + 1), Tensor(), false, nullptr);
}

}  // namespace mmx::nn
