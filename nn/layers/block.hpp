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
  /// The attention from `attention` (its causal flag included); the MLP's width and dropout
  /// are the attention's d_model and dropout.
  Block(const AttentionOptions& attention, Generator& init_gen, Generator& dropout_gen);

  /// `capture`, when given, receives this layer's attention scores and weights [B, H, T, T]
  /// and the block's output.
  Tensor forward(const Tensor& x, AttentionMap* capture = nullptr) const;
  /// See Attention::forward_cached.
  Tensor forward_cached(const Tensor& x, Tensor& keys, Tensor& values, int64_t start) const;

  /// This layer's attention, for its MultiMax parameters.
  const Attention& attention() const { return attn_; }

 private:
  LayerNorm ln1_;
  Attention attn_;
  LayerNorm ln2_;
  MLP mlp_;
};

}  // namespace mmx::nn
