/// \file
/// ViTConfig: everything that decides a vision transformer's shape and attention, and its JSON
/// form (stored in checkpoints beside the weights, as GPTConfig is).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "nn/layers/attention_config.hpp"

namespace mmx::nn {

/// How the classifier reads the tokens after the last block.
enum class ViTPooling {
  MeanThenNorm,  ///< average the tokens, then LayerNorm the mean (timm's fc_norm order)
  NormThenMean,  ///< LayerNorm each token, then average (the official MultiMax ViT)
};
/// "mean-then-norm", "norm-then-mean": the config's and the --pooling flag's spelling.
const char* vit_pooling_name(ViTPooling pooling);
/// Every spelling, in enum order.
std::vector<std::string> vit_pooling_names();
/// The pooling spelled `name`; an mmx::Error listing the spellings otherwise.
ViTPooling parse_vit_pooling(const std::string& name);

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
  /// every attention layer's normalizer
  AttentionConfig attention;
  /// also modulate the classifier logits with MultiMax (of attention.multimax_order)
  bool multimax_logits = false;
  /// how the classifier pools the tokens (configs written before it: mean-then-norm)
  ViTPooling pooling = ViTPooling::MeanThenNorm;

  /// image_size / patch_size
  int64_t patches_per_side() const { return image_size / patch_size; }
  /// patches per image, the sequence length
  int64_t tokens() const { return patches_per_side() * patches_per_side(); }
  /// values per flattened patch, channels x patch_size^2
  int64_t patch_features() const { return channels * patch_size * patch_size; }
  /// What each block's attention is built from: every patch sees every other (not causal).
  AttentionOptions block_attention() const;
  /// Throws an mmx::Error naming the first bad field.
  void validate() const;
};

/// nlohmann's ADL hooks: reading requires every field, checks types, and validates the result.
void to_json(nlohmann::json& j, const ViTConfig& config);
/// See to_json.
void from_json(const nlohmann::json& j, ViTConfig& config);

}  // namespace mmx::nn
