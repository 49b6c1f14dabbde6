#include "nn/models/row_blocks.hpp"

#include <utility>

#include "engine/decoding.hpp"
#include "engine/error.hpp"
#include "nn/layers/layer_norm.hpp"

namespace mmx::nn {

RowBuffers::RowBuffers(int64_t d_model, int64_t head_count, int64_t max_keys, int64_t vocab)
    : x(Tensor::zeros({d_model})),
      qkv(Tensor::zeros({3 * d_model})),
      q(qkv.slice(0, 0, d_model)),
      kv(qkv.slice(0, d_model, 3 * d_model)),
      heads(Tensor::zeros({d_model})),
      hidden(Tensor::zeros({4 * d_model})),
      scratch(Tensor::zeros({2 * head_count * max_keys})),
      logits(Tensor::zeros({vocab})) {}

ParameterViews::ParameterViews(NamedTensors parameters, std::string owner)
    : parameters_(std::move(parameters)), owner_(std::move(owner)) {}

Tensor ParameterViews::operator()(const std::string& name) const {
  for (const auto& [n, t] : parameters_)
    if (n == name) return t;
  throw Error(cat(owner_, ": the model has no parameter '", name, "'"));
}

MultiMaxParams ParameterViews::multimax(const std::string& prefix, int order) const {
  return {(*this)(prefix + "t"), (*this)(prefix + "r"), order};
}

AttentionHalf::AttentionHalf(const ParameterViews& p, const AttentionParameters& where) {
  const std::string ln = where.block + where.layer_norm + ".";
  const std::string attn = where.block + where.attention + ".";
  ln_ = {p(ln + "weight"), p(ln + "bias"), LayerNorm::kDefaultEps};
  if (where.fused) {
    qkv_weight_ = p(attn + "qkv.weight");
    qkv_bias_ = p(attn + "qkv.bias");
  } else {
    q_weight_ = p(attn + "q.weight");
    q_bias_ = p(attn + "q.bias");
    kv_weight_ = p(attn + "kv.weight");
    kv_bias_ = p(attn + "kv.bias");
  }
  proj_weight_ = p(attn + "proj.weight");
  proj_bias_ = p(attn + "proj.bias");
  if (where.multimax) multimax_ = p.multimax(attn + "multimax.", where.order);
}

void AttentionHalf::run_cached(RowBuffers& b, Tensor& keys, Tensor& values,
                               int64_t position) const {
  if (qkv_weight_.defined()) {
    normed_linear_row(b.x, ln_, qkv_weight_, qkv_bias_, b.qkv);
  } else {
    normed_linear_row(b.x, ln_, q_weight_, q_bias_, b.q);
    normed_linear_row(b.x, ln_, kv_weight_, kv_bias_, b.kv);
  }
  CachedAttentionStep step{.qkv = b.qkv,
                           .keys = keys,
                           .values = values,
                           .position = position,
                           .multimax = normalizer(),
                           .scratch = b.scratch.slice(0, 0, 2 * keys.size(0) * keys.size(1)),
                           .y = b.heads};
  cached_attention_row(step);
  add_projection(b);
}

void AttentionHalf::run_memory(RowBuffers& b, const Tensor& keys, const Tensor& values,
                               const Tensor& key_mask) const {
  MMX_CHECK(q_weight_.defined(), "AttentionHalf: cross-attention needs the q/kv projection");
  normed_linear_row(b.x, ln_, q_weight_, q_bias_, b.q);
  MemoryAttentionStep step{.q = b.q,
                           .keys = keys,
                           .values = values,
                           .key_mask = key_mask,
                           .multimax = normalizer(),
                           .scratch = b.scratch,
                           .y = b.heads};
  memory_attention_row(step);
  add_projection(b);
}

void AttentionHalf::add_projection(RowBuffers& b) const {
  linear_row(b.heads, proj_weight_, proj_bias_, b.x, /*accumulate=*/true);  // the residual add
}

MlpHalf::MlpHalf(const ParameterViews& p, const std::string& block, const std::string& layer_norm)
    : ln_{p(block + layer_norm + ".weight"), p(block + layer_norm + ".bias"),
          LayerNorm::kDefaultEps},
      fc_weight_(p(block + "mlp.fc.weight")),
      fc_bias_(p(block + "mlp.fc.bias")),
      out_weight_(p(block + "mlp.out.weight")),
      out_bias_(p(block + "mlp.out.bias")) {}

void MlpHalf::run(RowBuffers& b) const {
  normed_linear_row(b.x, ln_, fc_weight_, fc_bias_, b.hidden, /*gelu=*/true);
  linear_row(b.hidden, out_weight_, out_bias_, b.x, /*accumulate=*/true);  // the residual add
}

OutputHead::OutputHead(const ParameterViews& p, const std::string& layer_norm,
                       const std::string& head, bool multimax_logits, int order)
    : ln_{p(layer_norm + ".weight"), p(layer_norm + ".bias"), LayerNorm::kDefaultEps},
      head_weight_(p(head + ".weight")) {
  if (multimax_logits) multimax_ = p.multimax(head + "_multimax.", order);
}

void OutputHead::run(RowBuffers& b) const {
  normed_linear_row(b.x, ln_, head_weight_, Tensor(), b.logits);
  if (multimax_.t.defined()) multimax_modulate_row(b.logits, multimax_, b.logits);
}

}  // namespace mmx::nn
