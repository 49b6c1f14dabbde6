/// \file
/// Block: one pre-LayerNorm transformer layer, x + attn(ln1(x)) then x + mlp(ln2(x)).
/// Children "ln1", "attn", "ln2", "mlp".
#pragma once

#include "nn/layers/attention.hpp"
#include "nn/layers/layer_norm.hpp"
#include "nn/layers/mlp.hpp"

namespace mmx::nn {

/// One pre-LayerNorm transformer layer (see the file comment).
class Block : public Module {
 public:
  /// causal = false: attention over every position (see CausalSelfAttention).
  Block(const GPTConfig& config, Generator& init_gen, Generator& dropout_gen, bool causal = true);

  /// `capture`, when given, receives this layer's attention scores and weights [B, H, T, T].
  Tensor forward(const Tensor& x, AttentionMap* capture = nullptr) const;
  /// See CausalSelfAttention::forward_cached.
  Tensor forward_cached(const Tensor& x, Tensor& keys, Tensor& values, int64_t start) const;

  /// This layer's attention, for its MultiMax parameters.
  const CausalSelfAttention& attention() const { return attn_; }

 private:
  LayerNorm ln1_;
  CausalSelfAttention attn_;
  LayerNorm ln2_;
  MLP mlp_;
};

}  // namespace mmx::nn
