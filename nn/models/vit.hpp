/// \file
/// ViT: a vision transformer for small images. Non-overlapping patches are flattened and embedded
/// by a Linear ("patch"), learned positions ("pos") are added, pre-LN Blocks ("blocks.i") attend
/// over every patch, and the tokens are averaged (global average pooling, no class token) before
/// the final LayerNorm ("ln"), the classifier ("head") and optionally MultiMax on its logits. The
/// official MultiMax ViT normalises each token before averaging (docs/multimax.md).
#pragma once

#include <memory>
#include <vector>

#include "nn/layers/block.hpp"
#include "nn/models/vit_config.hpp"
#include "nn/module_list.hpp"

namespace mmx::nn {

/// A vision transformer classifier (see the file comment).
class ViT : public Module {
 public:
  /// `seed` drives the initial weights; dropout draws from its own generator, seeded from it.
  explicit ViT(const ViTConfig& config, uint64_t seed = 0);

  /// The configuration it was built from.
  const ViTConfig& config() const { return config_; }

  /// images [B, C, H, W] -> logits [B, classes] (modulated by MultiMax when configured, so
  /// softmax(logits) is then MultiMax of the head's output). `attention`, when given, receives
  /// each layer's scores and weights [B, heads, tokens, tokens].
  Tensor forward(const Tensor& images, std::vector<AttentionMap>* attention = nullptr) const;
  /// Mean cross-entropy of forward(images) against one label per image.
  Tensor loss(const Tensor& images, const std::vector<int64_t>& labels) const;
  /// The arg-max class of each image, without autograd.
  std::vector<int64_t> predict(const Tensor& images) const;

  /// images [B, C, H, W] -> patches [B, tokens, C * p * p], each patch's channels then rows.
  Tensor patchify(const Tensor& images) const;

  /// The dropout stream, for checkpoints that resume bit for bit.
  Generator& dropout_generator() { return dropout_gen_; }

 private:
  ViTConfig config_;
  Generator init_gen_;  ///< declared before the layers: they draw from it as they are built
  Generator dropout_gen_;
  Linear patch_;
  Tensor pos_;  ///< [tokens, d_model]
  Dropout embedding_dropout_;
  ModuleList<Block> blocks_;
  LayerNorm ln_;
  Linear head_;
  std::unique_ptr<MultiMaxParameters> head_multimax_;
};

}  // namespace mmx::nn
