#include "nn/models/vit.hpp"

#include <algorithm>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/ops.hpp"
#include "nn/models/model_setup.hpp"

namespace mmx::nn {

ViT::ViT(const ViTConfig& config, uint64_t seed)
    : config_(validated(config)),
      init_gen_(seed),
      dropout_gen_(dropout_seed(seed)),
      patch_(config.patch_features(), config.d_model, init_gen_),
      embedding_dropout_(config.dropout, dropout_gen_),
      ln_(config.d_model),
      head_(config.d_model, config.classes, init_gen_) {
  register_module("patch", patch_);
  pos_ = register_parameter(
      "pos", Tensor::randn({config.tokens(), config.d_model}, init_gen_, 0.0f, 0.02f));
  register_module("embedding_dropout", embedding_dropout_);
  for (int64_t l = 0; l < config.layers; ++l)
    blocks_.push_back(std::make_unique<Block>(config.block_attention(), init_gen_, dropout_gen_));
  register_module("blocks", blocks_);
  register_module("ln", ln_);
  register_module("head", head_);
  if (config.multimax_logits) {
    head_multimax_ =
        std::make_unique<MultiMaxParameters>(0, config.attention.multimax_order, init_gen_);
    register_module("head_multimax", *head_multimax_);
  }
}

Tensor ViT::patchify(const Tensor& images) const {
  const int64_t C = config_.channels, S = config_.image_size, p = config_.patch_size;
  MMX_CHECK(images.dim() == 4 && images.size(0) > 0 && images.size(1) == C && images.size(2) == S &&
                images.size(3) == S,
            "ViT: expected images [B, ", C, ", ", S, ", ", S, "], got ", to_string(images.shape()));
  const int64_t B = images.size(0), g = config_.patches_per_side();
  // [B, C, g, p, g, p] -> [B, g, g, C, p, p]: patch (row, col) becomes one token of C*p*p pixels.
  Tensor grid = permute(reshape(images, {B, C, g, p, g, p}), {0, 2, 4, 1, 3, 5});
  return reshape(grid, {B, g * g, config_.patch_features()});
}

Tensor ViT::forward(const Tensor& images, std::vector<AttentionMap>* attention) const {
  Tensor x = embedding_dropout_.forward(patch_.forward(patchify(images)) + pos_);
  if (attention) attention->assign(blocks_.size(), AttentionMap());
  for (size_t l = 0; l < blocks_.size(); ++l)
    x = blocks_[l].forward(x, attention ? &(*attention)[l] : nullptr);
  // LayerNorm does not commute with the mean: the two orders are two models. docs/multimax.md
  // (section 6) measures them.
  const Tensor pooled = config_.pooling == ViTPooling::MeanThenNorm ? ln_.forward(mean(x, {1}))
                                                                    : mean(ln_.forward(x), {1});
  Tensor logits = head_.forward(pooled);
  return head_multimax_ ? head_multimax_->modulate(logits) : logits;
}

Tensor ViT::loss(const Tensor& images, const std::vector<int64_t>& labels) const {
  MMX_CHECK(images.dim() >= 1 && static_cast<int64_t>(labels.size()) == images.size(0),
            "ViT::loss: ", labels.size(), " labels for images ", to_string(images.shape()));
  return cross_entropy(forward(images), labels);
}

std::vector<int64_t> ViT::predict(const Tensor& images) const {
  NoGrad no_grad;
  const std::vector<float> logits = forward(images).to_vector();
  const auto classes = static_cast<size_t>(config_.classes);
  std::vector<int64_t> out(logits.size() / classes);
  for (size_t b = 0; b < out.size(); ++b) {
    const auto row = logits.begin() + static_cast<std::ptrdiff_t>(b * classes);
    out[b] = std::max_element(row, row + static_cast<std::ptrdiff_t>(classes)) - row;
  }
  return out;
}

}  // namespace mmx::nn
