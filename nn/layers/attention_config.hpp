/// \file
/// AttentionConfig, how one attention normalizes its scores, which every model's config embeds;
/// and AttentionOptions, everything one Attention module is built from.
#pragma once

#include <cstdint>

#include "nn/layers/normalizers.hpp"

namespace mmx::nn {

/// An attention's normalizer and, for MultiMax, the shape of its (t, r).
struct AttentionConfig {
  /// the normalizer of the attention scores
  AttentionKind kind = AttentionKind::Softmax;
  int multimax_order = 2;          ///< 1 or 2
  bool multimax_per_head = false;  ///< one (t, r) per head instead of one per layer
  /// Throws an mmx::Error that starts with `owner` (e.g. "GPTConfig") and names the bad field.
  void validate(const char* owner) const;
};

/// How an Attention projects its inputs into queries, keys and values.
enum class AttentionProjection {
  /// One d -> 3d matmul ("qkv") over one sequence: the GPT and the ViT. The fused causal
  /// kernels read their heads straight from its output.
  Fused,
  /// "q" (d -> d) and "kv" (d -> 2d), so that keys and values may come from a second sequence:
  /// every attention of the encoder-decoder, its self-attentions included.
  Split,
};

/// Everything one Attention module is built from.
struct AttentionOptions {
  /// width of queries, keys and values
  int64_t d_model = 0;
  /// attention heads (must divide d_model)
  int64_t heads = 1;
  /// dropout probability of the weights and of the output, in [0, 1)
  float dropout = 0.0f;
  bool causal = false;  ///< query i sees keys [0, i] only
  /// the normalizer
  AttentionConfig normalizer;
  /// see AttentionProjection
  AttentionProjection projection = AttentionProjection::Fused;
  /// Throws an mmx::Error that starts with `owner` (the model's config) and names the bad field:
  /// the checks every model's config shares (d_model, heads, dropout, the normalizer).
  void validate(const char* owner) const;
};

}  // namespace mmx::nn
