/// \file
/// The two pre-LayerNorm layers of the encoder-decoder: EncoderLayer (non-causal self-attention,
/// MLP) and DecoderLayer (causal self-attention, cross-attention to the encoder, MLP).
#pragma once

#include "nn/layers/attention.hpp"
#include "nn/layers/layer_norm.hpp"
#include "nn/layers/mlp.hpp"
#include "nn/models/seq2seq_config.hpp"

namespace mmx::nn {

/// Children "ln1", "self_attn", "ln2", "mlp".
class EncoderLayer : public Module {
 public:
  /// Weights drawn from `init_gen`; dropout masks from `dropout_gen`.
  EncoderLayer(const Seq2SeqConfig& config, Generator& init_gen, Generator& dropout_gen);
  /// x [B, S, d]; `key_mask` [B, 1, 1, S] hides padded source positions. `capture`, when given,
  /// receives the self-attention's map and the layer's output.
  Tensor forward(const Tensor& x, const Tensor& key_mask, AttentionMap* capture = nullptr) const;

 private:
  LayerNorm ln1_;
  Attention self_attn_;
  LayerNorm ln2_;
  MLP mlp_;
};

/// Children "ln1", "self_attn", "ln2", "cross_attn", "ln3", "mlp".
class DecoderLayer : public Module {
 public:
  /// Weights drawn from `init_gen`; dropout masks from `dropout_gen`.
  DecoderLayer(const Seq2SeqConfig& config, Generator& init_gen, Generator& dropout_gen);
  /// x [B, T, d] (targets shifted right), memory [B, S, d] the encoder's output. The captures,
  /// when given, receive the self- and the cross-attention's maps, the self one the layer's
  /// output too.
  Tensor forward(const Tensor& x, const Tensor& memory, const Tensor& memory_mask,
                 AttentionMap* self_capture = nullptr, AttentionMap* cross_capture = nullptr) const;

  /// Inference, one position per row: x [B, 1, d] at `position`; self-attention through the
  /// cache buffers, cross-attention through the encoder's precomputed keys/values.
  Tensor forward_step(const Tensor& x, Tensor& keys, Tensor& values, int64_t position,
                      const KeyValues& memory_kv, const Tensor& memory_mask) const;
  /// The cross-attention's keys and values of the encoder output, computed once per source.
  KeyValues memory_key_values(const Tensor& memory) const;

 private:
  LayerNorm ln1_;
  Attention self_attn_;
  LayerNorm ln2_;
  Attention cross_attn_;
  LayerNorm ln3_;
  MLP mlp_;
};

}  // namespace mmx::nn
