/// \file
/// ViTConfig: everything that decides a vision transformer's shape and attention, and its JSON
/// form (stored in checkpoints beside the weights, as GPTConfig is).
#pragma once

#include <cstdint>

#include <nlohmann/json_fwd.hpp>

#include "nn/models/gpt_config.hpp"

namespace mmx::nn {

/// A ViT's hyperparameters; validate() checks them.
struct ViTConfig {
  int64_t image_size = 28;  ///< square images, image_size x image_size pixels
  /// colour channels per pixel
  int64_t channels = 1;
  int64_t patch_size = 7;  ///< must divide image_size
  /// labels the classifier chooses from
  int64_t classes = 10;
  /// width of the residual stream
  int64_t d_model = 64;
  /// transformer blocks
  int64_t layers = 4;
  /// attention heads per block (must divide d_model)
  int64_t heads = 4;
  /// dropout probability, in [0, 1)
  float dropout = 0.0f;
  /// the normalizer of every attention layer
  AttentionKind attention = AttentionKind::Softmax;
  int multimax_order = 2;          ///< 1 or 2
  bool multimax_per_head = false;  ///< one (t, r) per head instead of one per layer
  bool multimax_logits = false;    ///< also modulate the classifier logits with MultiMax

  /// image_size / patch_size
  int64_t patches_per_side() const { return image_size / patch_size; }
  /// patches per image, the sequence length
  int64_t tokens() const { return patches_per_side() * patches_per_side(); }
  /// values per flattened patch, channels x patch_size^2
  int64_t patch_features() const { return channels * patch_size * patch_size; }
  /// The settings the shared transformer Block reads (d_model, heads, dropout, attention and
  /// MultiMax), with seq_len = tokens() and vocab = classes.
  GPTConfig block_config() const;
  /// Throws an mmx::Error naming the first bad field.
  void validate() const;
};

/// nlohmann's ADL hooks: reading requires every field, checks types, and validates the result.
void to_json(nlohmann::json& j, const ViTConfig& config);
/// See to_json.
void from_json(const nlohmann::json& j, ViTConfig& config);

}  // namespace mmx::nn
