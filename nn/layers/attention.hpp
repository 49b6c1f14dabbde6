/// \file
/// Attention: multi-head attention with a normalizer (SoftMax, MultiMax, SparseMax, EntMax-1.5,
/// EvSoftMax) and a causal flag, the one attention every model uses: the GPT's causal
/// self-attention, the ViT's attention over every patch, and the encoder-decoder's encoder self,
/// decoder self (with a KV cache) and cross-attention. Children "qkv" (d -> 3d) or "q" (d -> d)
/// and "kv" (d -> 2d) (see AttentionProjection), "proj" (d -> d) and, for MultiMax, "multimax"
/// (t, r per layer or per head).
#pragma once

#include <memory>
#include <optional>

#include "nn/layers/attention_config.hpp"
#include "nn/layers/attention_map.hpp"
#include "nn/layers/dropout.hpp"
#include "nn/layers/linear.hpp"
#include "nn/layers/multimax_parameters.hpp"

namespace mmx::nn {

/// Keys and values split into heads, [B, H, S, dh] each.
struct KeyValues {
  ///@{
  /// [B, H, S, dh] each
  Tensor keys, values;
  ///@}
};

/// Multi-head attention with a configurable normalizer (see the file comment).
class Attention : public Module {
 public:
  /// Weights drawn from `init_gen`, dropout masks from `dropout_gen`.
  Attention(const AttentionOptions& options, Generator& init_gen, Generator& dropout_gen);

  /// Self-attention, x [B, T, d] -> [B, T, d]. When `capture` is given it receives the scores
  /// and attention weights [B, H, T, T] (detached, before dropout).
  Tensor forward(const Tensor& x, AttentionMap* capture = nullptr) const;
  /// queries [B, T, d] attend to memory [B, S, d] -> [B, T, d] (Split projection only; memory
  /// may be the queries themselves). `key_mask` is additive (0 or -inf), broadcastable to
  /// [B, H, T, S], e.g. [B, 1, 1, S] for padded keys; may be undefined. `capture` as forward's,
  /// with `key_mask`.
  Tensor forward(const Tensor& queries, const Tensor& memory, const Tensor& key_mask,
                 AttentionMap* capture = nullptr) const;

  /// Inference on positions [start, start + T) of x [B, T, d], reading positions [0, start)
  /// from this layer's cache buffers `keys`/`values` [B, H, capacity, dh] and writing the new
  /// ones. Causal layers only.
  Tensor forward_cached(const Tensor& x, Tensor& keys, Tensor& values, int64_t start) const;

  /// The keys and values of memory [B, S, d], computed once per source for a decoding
  /// cross-attention (Split projection only).
  KeyValues project_key_values(const Tensor& memory) const;
  /// Inference: queries [B, T, d] attend to keys/values from project_key_values, under
  /// `key_mask` (as forward's). Non-causal.
  Tensor forward_with(const Tensor& queries, const KeyValues& kv, const Tensor& key_mask) const;

  /// The MultiMax t and r; null for other normalizers.
  const MultiMaxParameters* multimax() const { return multimax_.get(); }

 private:
  struct Heads {
    Tensor q, k, v;  ///< [B, H, T, dh] each
  };
  bool fused_projection() const { return qkv_.has_value(); }
  /// x [B, T, d] -> q, k, v side by side [B, T, 3d] (one matmul; Fused projection).
  Tensor project_qkv(const Tensor& x) const;
  /// The heads of x's queries, keys and values (views, no copies).
  Heads project_heads(const Tensor& x) const;
  /// [B, T, d] -> [B, H, T, dh] view
  Tensor split_heads(const Tensor& x) const;
  /// 1 / sqrt(head size), attention's score scale.
  float scale() const;
  /// softmax-like weights of q k^T / sqrt(dh), then p v, merged back to [B, T, d] and projected.
  Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, bool causal,
                AttentionMap* capture) const;
  Tensor normalize(const Tensor& scores, const Tensor& mask, bool causal) const;
  /// The heads side by side [B, T, H dh], projected (and residual dropout).
  Tensor project_out(const Tensor& merged) const;

  AttentionKind kind_;
  int64_t d_model_;
  int64_t heads_;
  bool causal_;
  std::optional<Linear> qkv_;  // Fused
  std::optional<Linear> q_;    // Split
  std::optional<Linear> kv_;   // Split
  Linear proj_;
  std::unique_ptr<MultiMaxParameters> multimax_;
  Dropout attention_dropout_;
  Dropout residual_dropout_;
};

}  // namespace mmx::nn
