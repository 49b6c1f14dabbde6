/// \file
/// CausalSelfAttention: multi-head self-attention whose normalizer (SoftMax, MultiMax, SparseMax,
/// EntMax-1.5, EvSoftMax) comes from the config. Children "qkv" (d -> 3d), "proj" (d -> d) and,
/// for MultiMax, "multimax" (t, r per layer or per head). Built with causal = false it lets every
/// position see every other (the ViT's encoder), through the same code.
#pragma once

#include <memory>

#include "nn/layers/attention_map.hpp"
#include "nn/layers/dropout.hpp"
#include "nn/layers/linear.hpp"
#include "nn/layers/multimax_parameters.hpp"
#include "nn/models/gpt_config.hpp"

namespace mmx::nn {

/// Multi-head self-attention with a configurable normalizer (see the file comment).
class CausalSelfAttention : public Module {
 public:
  /// Weights drawn from `init_gen`, dropout masks from `dropout_gen`; causal = false lets every
  /// position see every other.
  CausalSelfAttention(const GPTConfig& config, Generator& init_gen, Generator& dropout_gen,
                      bool causal = true);

  /// x [B, T, d] -> [B, T, d]. When `capture` is given it receives the scores and attention
  /// weights [B, H, T, T] (detached, before dropout).
  Tensor forward(const Tensor& x, AttentionMap* capture = nullptr) const;

  /// Inference on positions [start, start + T) of x [B, T, d], reading positions [0, start) from
  /// this layer's cache buffers `keys`/`values` [B, H, capacity, dh] and writing the new ones.
  /// Causal layers only.
  Tensor forward_cached(const Tensor& x, Tensor& keys, Tensor& values, int64_t start) const;

  /// The MultiMax t and r; null for other normalizers.
  const MultiMaxParameters* multimax() const { return multimax_.get(); }

 private:
  struct Heads {
    Tensor q, k, v;  ///< [B, H, T, dh] each
  };
  /// x [B, T, d] -> q, k, v side by side [B, T, 3d] (one matmul).
  Tensor project_qkv(const Tensor& x) const;
  Heads project_heads(const Tensor& x) const;
  /// 1 / sqrt(head size), attention's score scale.
  float scale() const;
  /// softmax-like weights of q k^T / sqrt(dh), then p v, merged back to [B, T, d] and projected.
  Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, bool causal,
                AttentionMap* capture) const;
  Tensor normalize(const Tensor& scores, const Tensor& mask, bool causal) const;
  /// The heads side by side [B, T, H dh], projected (and residual dropout).
  Tensor project_out(const Tensor& merged) const;

  AttentionKind kind_;
  int64_t heads_;
  bool causal_;
  Linear qkv_;
  Linear proj_;
  std::unique_ptr<MultiMaxParameters> multimax_;
  Dropout attention_dropout_;
  Dropout residual_dropout_;
};

}  // namespace mmx::nn
