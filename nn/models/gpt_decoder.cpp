#include "nn/models/gpt_decoder.hpp"

#include <string>

#include "engine/error.hpp"
#include "engine/parallel_region.hpp"
#include "nn/layers/normalizers.hpp"

namespace mmx::nn {

namespace {

// The checked configuration: the members after it are built from it.
const GPTConfig& decodable(const GPT& model) {
  const GPTConfig& config = model.config();
  MMX_CHECK(GPTDecoder::supports(config),
            "GPTDecoder: decodes SoftMax and MultiMax attention, not ",
            attention_kind_name(config.attention.kind));
  MMX_CHECK(!model.is_training(),
            "GPTDecoder: the model is in training mode (dropout would apply); call eval() first");
  return config;
}

}  // namespace

bool GPTDecoder::supports(const GPTConfig& config) {
  const AttentionKind kind = config.attention.kind;
  return kind == AttentionKind::Softmax || kind == AttentionKind::MultiMax;
}

GPTDecoder::GPTDecoder(const GPT& model)
    : GPTDecoder(model, ParameterViews(model.named_parameters(), "GPTDecoder")) {}

GPTDecoder::GPTDecoder(const GPT& model, const ParameterViews& p)
    : config_(decodable(model)),
      tok_(p("tok.weight")),
      pos_(p("pos")),
      head_(p, "ln", "head", config_.multimax_logits, config_.attention.multimax_order),
      buffers_(config_.d_model, config_.heads, config_.seq_len, config_.vocab) {
  const int64_t heads = config_.heads, dh = config_.head_dim();
  for (int64_t l = 0; l < config_.layers; ++l) {
    const std::string block = cat("blocks.", l, ".");
    const AttentionParameters attention{
        .block = block,
        .layer_norm = "ln1",
        .attention = "attn",
        .fused = true,
        .multimax = config_.attention.kind == AttentionKind::MultiMax,
        .order = config_.attention.multimax_order};
    layers_.push_back({.attention = AttentionHalf(p, attention),
                       .mlp = MlpHalf(p, block, "ln2"),
                       .keys = Tensor::zeros({heads, config_.seq_len, dh}),
                       .values = Tensor::zeros({heads, config_.seq_len, dh})});
  }
}

const Tensor& GPTDecoder::step(int64_t token) {
  MMX_CHECK(token >= 0 && token < config_.vocab, "GPTDecoder: token id ", token,
            " is outside the vocabulary [0, ", config_.vocab, ")");
  MMX_CHECK(length_ < config_.seq_len, "GPTDecoder: the context of seq_len ", config_.seq_len,
            " positions is full; clear() and feed a shorter window");
  const int64_t d = config_.d_model;
  // The embedding: the token's row plus the position's row, as GPT::embed.
  const float* tok = tok_.data() + token * d;
  const float* pos = pos_.data() + length_ * d;
  float* x = buffers_.x.data();
  for (int64_t i = 0; i < d; ++i) x[i] = tok[i] + pos[i];
  // The token's ~30 kernels on one team: a barrier between them, not a team each.
  shared_team([&] {
    for (Layer& layer : layers_) {
      layer.attention.run_cached(buffers_, layer.keys, layer.values, length_);
      layer.mlp.run(buffers_);
    }
    head_.run(buffers_);
  });
  ++length_;
  return buffers_.logits;
}

}  // namespace mmx::nn
