#include "nn/models/gpt_decoder.hpp"

#include <string>

#include "engine/decoding.hpp"
#include "engine/error.hpp"
#include "nn/layers/layer_norm.hpp"
#include "nn/layers/normalizers.hpp"

namespace mmx::nn {

namespace {

// The model's parameter `name` (its checkpoint name), which must exist.
Tensor parameter(const NamedTensors& parameters, const std::string& name) {
  for (const auto& [n, t] : parameters)
    if (n == name) return t;
  throw Error(cat("GPTDecoder: the model has no parameter '", name, "'"));
}

}  // namespace

bool GPTDecoder::supports(const GPTConfig& config) {
  const AttentionKind kind = config.attention.kind;
  return kind == AttentionKind::Softmax || kind == AttentionKind::MultiMax;
}

GPTDecoder::GPTDecoder(const GPT& model) : config_(model.config()) {
  MMX_CHECK(supports(config_), "GPTDecoder: decodes SoftMax and MultiMax attention, not ",
            attention_kind_name(config_.attention.kind));
  MMX_CHECK(!model.is_training(),
            "GPTDecoder: the model is in training mode (dropout would apply); call eval() first");
  const NamedTensors p = model.named_parameters();
  tok_ = parameter(p, "tok.weight");
  pos_ = parameter(p, "pos");
  ln_weight_ = parameter(p, "ln.weight");
  ln_bias_ = parameter(p, "ln.bias");
  head_weight_ = parameter(p, "head.weight");
  const int order = config_.attention.multimax_order;
  if (config_.multimax_logits)
    head_multimax_ = {parameter(p, "head_multimax.t"), parameter(p, "head_multimax.r"), order};
  const int64_t d = config_.d_model, heads = config_.heads, dh = config_.head_dim();
  const int64_t capacity = config_.seq_len;
  for (int64_t l = 0; l < config_.layers; ++l) {
    const std::string b = cat("blocks.", l, ".");
    Layer layer{.ln1_weight = parameter(p, b + "ln1.weight"),
                .ln1_bias = parameter(p, b + "ln1.bias"),
                .qkv_weight = parameter(p, b + "attn.qkv.weight"),
                .qkv_bias = parameter(p, b + "attn.qkv.bias"),
                .proj_weight = parameter(p, b + "attn.proj.weight"),
                .proj_bias = parameter(p, b + "attn.proj.bias"),
                .ln2_weight = parameter(p, b + "ln2.weight"),
                .ln2_bias = parameter(p, b + "ln2.bias"),
                .fc_weight = parameter(p, b + "mlp.fc.weight"),
                .fc_bias = parameter(p, b + "mlp.fc.bias"),
                .out_weight = parameter(p, b + "mlp.out.weight"),
                .out_bias = parameter(p, b + "mlp.out.bias"),
                .multimax = {},
                .keys = Tensor::zeros({heads, capacity, dh}),
                .values = Tensor::zeros({heads, capacity, dh})};
    if (config_.attention.kind == AttentionKind::MultiMax)
      layer.multimax = {parameter(p, b + "attn.multimax.t"), parameter(p, b + "attn.multimax.r"),
                        order};
    layers_.push_back(std::move(layer));
  }
  x_ = Tensor::zeros({d});
  normed_ = Tensor::zeros({d});
  qkv_ = Tensor::zeros({3 * d});
  heads_ = Tensor::zeros({d});
  hidden_ = Tensor::zeros({4 * d});
  scratch_ = Tensor::zeros({2 * heads * capacity});
  logits_ = Tensor::zeros({config_.vocab});
}

const Tensor& GPTDecoder::step(int64_t token) {
  MMX_CHECK(token >= 0 && token < config_.vocab, "GPTDecoder: token id ", token,
            " is outside the vocabulary [0, ", config_.vocab, ")");
  MMX_CHECK(length_ < config_.seq_len, "GPTDecoder: the context of seq_len ", config_.seq_len,
            " positions is full; clear() and feed a shorter window");
  const int64_t d = config_.d_model;
  const float eps = LayerNorm::kDefaultEps;
  // The embedding: the token's row plus the position's row, as GPT::embed.
  const float* tok = tok_.data() + token * d;
  const float* pos = pos_.data() + length_ * d;
  float* x = x_.data();
  for (int64_t i = 0; i < d; ++i) x[i] = tok[i] + pos[i];
  for (Layer& layer : layers_) {
    // x + attn(ln1(x)), then x + mlp(ln2(x)): the residual adds fused into the output products.
    layer_norm_row(x_, layer.ln1_weight, layer.ln1_bias, eps, normed_);
    linear_row(normed_, layer.qkv_weight, layer.qkv_bias, qkv_);
    CachedAttentionStep attention{
        .qkv = qkv_,
        .keys = layer.keys,
        .values = layer.values,
        .position = length_,
        .multimax = layer.multimax.t.defined() ? &layer.multimax : nullptr,
        .scratch = scratch_,
        .y = heads_};
    cached_attention_row(attention);
    linear_row(heads_, layer.proj_weight, layer.proj_bias, x_, /*accumulate=*/true);
    layer_norm_row(x_, layer.ln2_weight, layer.ln2_bias, eps, normed_);
    linear_row(normed_, layer.fc_weight, layer.fc_bias, hidden_);
    gelu_exact_row(hidden_, hidden_);
    linear_row(hidden_, layer.out_weight, layer.out_bias, x_, /*accumulate=*/true);
  }
  layer_norm_row(x_, ln_weight_, ln_bias_, eps, normed_);
  linear_row(normed_, head_weight_, Tensor(), logits_);
  if (head_multimax_.t.defined()) multimax_modulate_row(logits_, head_multimax_, logits_);
  ++length_;
  return logits_;
}

}  // namespace mmx::nn
