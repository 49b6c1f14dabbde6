/// \file
/// Seq2SeqConfig: the shape of the encoder-decoder translator and, separately, the normalizer of
/// each attention kind (encoder self, decoder self, cross), with its JSON form for checkpoints.
#pragma once

#include <cstdint>

#include <nlohmann/json_fwd.hpp>

#include "nn/layers/attention_config.hpp"

namespace mmx::nn {

///@{
/// Token ids every Seq2Seq uses; the characters start at kFirstCharId (see TranslationVocab).
inline constexpr int64_t kPadId = 0;  ///< fills short rows; never attended to, never a target
inline constexpr int64_t kBosId = 1;  ///< the decoder's first input
inline constexpr int64_t kEosId = 2;  ///< ends a target
inline constexpr int64_t kFirstCharId = 3;
///@}

/// The encoder-decoder's hyperparameters; validate() checks them.
struct Seq2SeqConfig {
  /// One vocabulary for both languages (German and English share nearly all their characters),
  /// but separate encoder and decoder embedding tables.
  int64_t vocab = 100;  ///< including the three special ids
  /// width of the residual stream
  int64_t d_model = 128;
  /// attention heads per attention (must divide d_model)
  int64_t heads = 4;
  /// encoder layers
  int64_t encoder_layers = 3;
  /// decoder layers
  int64_t decoder_layers = 3;
  int64_t max_source_len = 64;  ///< learned position table lengths; the target's counts BOS/EOS
  /// the longest target, BOS and EOS included
  int64_t max_target_len = 64;
  /// dropout probability, in [0, 1)
  float dropout = 0.0f;
  /// The encoder self-attention's normalizer. The official MultiMax code never modulated
  /// cross-attention; here each kind is a free choice. The three share one multimax_order and
  /// one multimax_per_head (validate() checks; a checkpoint stores them once).
  AttentionConfig encoder_attention;
  /// the decoder self-attention's normalizer
  AttentionConfig decoder_attention;
  /// the cross-attention's normalizer
  AttentionConfig cross_attention;
  /// Also modulate the decoder's output logits with MultiMax (of multimax_order), as the
  /// official fairseq decoder does. Checkpoints written before this field read as false.
  bool multimax_logits = false;

  /// d_model / heads
  int64_t head_dim() const { return d_model / heads; }
  /// What one of this model's attentions (one of the three above) is built from.
  AttentionOptions attention_options(const AttentionConfig& normalizer, bool causal) const;
  /// Throws an mmx::Error naming the first bad field.
  void validate() const;
};

/// Reading requires every field, checks types and validates (all as mmx::Error).
void to_json(nlohmann::json& j, const Seq2SeqConfig& config);
/// See to_json.
void from_json(const nlohmann::json& j, Seq2SeqConfig& config);

}  // namespace mmx::nn
