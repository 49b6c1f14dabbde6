/// \file
/// Seq2SeqAttention: multi-head attention whose queries and keys/values may come from different
/// sequences, for the encoder-decoder: non-causal encoder self-attention, causal decoder
/// self-attention (with a KV cache) and cross-attention (keys/values of the encoder computed
/// once per source). Children "q" (d -> d), "kv" (d -> 2d), "proj" and, for MultiMax, "multimax".
#pragma once

#include <memory>

#include "nn/layers/attention_map.hpp"
#include "nn/layers/dropout.hpp"
#include "nn/layers/linear.hpp"
#include "nn/layers/multimax_parameters.hpp"
#include "nn/models/gpt_config.hpp"

namespace mmx::nn {

/// One encoder-decoder attention's settings.
struct Seq2SeqAttentionOptions {
  /// width of queries, keys and values
  int64_t d_model = 0;
  /// attention heads (must divide d_model)
  int64_t heads = 1;
  /// the normalizer
  AttentionKind kind = AttentionKind::Softmax;
  /// 1 or 2, for MultiMax
  int multimax_order = 2;
  /// one (t, r) per head instead of one per layer
  bool multimax_per_head = false;
  /// dropout probability, in [0, 1)
  float dropout = 0.0f;
  bool causal = false;  ///< query i sees keys [0, i] (decoder self-attention)
};

/// Keys and values split into heads, [B, H, S, dh] each.
struct KeyValues {
  ///@{
  /// [B, H, S, dh] each
  Tensor keys, values;
  ///@}
};

/// Multi-head attention whose queries and keys/values may come from different sequences (see the
/// file comment).
class Seq2SeqAttention : public Module {
 public:
  /// Weights drawn from `init_gen`; dropout masks from `dropout_gen`.
  Seq2SeqAttention(const Seq2SeqAttentionOptions& options, Generator& init_gen,
                   Generator& dropout_gen);

  /// queries [B, T, d] attend to memory [B, S, d] -> [B, T, d]. `key_mask` is additive (0 or
  /// -inf), broadcastable to [B, H, T, S], e.g. [B, 1, 1, S] for padded keys; may be undefined.
  /// When `capture` is given it receives the scores and weights [B, H, T, S] (detached, before
  /// dropout) with `key_mask`.
  Tensor forward(const Tensor& queries, const Tensor& memory, const Tensor& key_mask,
                 AttentionMap* capture = nullptr) const;

  /// Inference with precomputed keys/values (see project_key_values): the cross-attention of a
  /// decoding step. Non-causal.
  KeyValues project_key_values(const Tensor& memory) const;
  /// forward() with the keys/values project_key_values computed.
  Tensor forward_with(const Tensor& queries, const KeyValues& kv, const Tensor& key_mask) const;

  /// Inference for causal self-attention, one new position per row: x [B, 1, d] at position
  /// `position`, whose key/value are written into the cache buffers [B, H, capacity, dh]; the
  /// query sees positions [0, position].
  Tensor forward_step(const Tensor& x, Tensor& keys, Tensor& values, int64_t position) const;

  /// The MultiMax t and r; null for other normalizers.
  const MultiMaxParameters* multimax() const { return multimax_.get(); }

 private:
  Tensor split_heads(const Tensor& x) const;  ///< [B, T, d] -> [B, H, T, dh] view
  Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                bool causal, AttentionMap* capture) const;

  AttentionKind kind_;
  int64_t heads_;
  bool causal_;
  Linear q_;
  Linear kv_;
  Linear proj_;
  std::unique_ptr<MultiMaxParameters> multimax_;
  Dropout attention_dropout_;
  Dropout residual_dropout_;
};

}  // namespace mmx::nn
