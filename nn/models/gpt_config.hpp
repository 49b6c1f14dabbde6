/// \file
/// GPTConfig: everything that decides a GPT's shape and attention, and its JSON form, which
/// checkpoints store as metadata so a model can be rebuilt from the file alone.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "nn/layers/attention_config.hpp"

namespace mmx::nn {

/// A GPT's hyperparameters; validate() checks them.
struct GPTConfig {
  /// number of token ids
  int64_t vocab = 96;
  /// width of the residual stream
  int64_t d_model = 128;
  /// transformer blocks
  int64_t layers = 4;
  /// attention heads per block (must divide d_model)
  int64_t heads = 4;
  int64_t seq_len = 128;  ///< the longest context (the learned position table's length)
  /// dropout probability, in [0, 1)
  float dropout = 0.0f;
  /// every attention layer's normalizer
  AttentionConfig attention;
  /// also modulate the output logits with MultiMax (of attention.multimax_order)
  bool multimax_logits = false;

  /// d_model / heads
  int64_t head_dim() const { return d_model / heads; }
  /// What each block's causal self-attention is built from.
  AttentionOptions block_attention() const;
  /// Throws an mmx::Error naming the first bad field.
  void validate() const;
};

/// nlohmann's ADL hooks: `nlohmann::json j = config;` and `j.get<GPTConfig>()`. Reading
/// requires every field, checks types, and validates the result (all as mmx::Error).
void to_json(nlohmann::json& j, const GPTConfig& config);
/// See to_json.
void from_json(const nlohmann::json& j, GPTConfig& config);

}  // namespace mmx::nn
