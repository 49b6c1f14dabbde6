/// \file
/// What GPTDecoder and Seq2SeqDecoder share: a pre-LN transformer's inference on one row, piece
/// by piece. Each piece holds views of its model's parameters (looked up by checkpoint name, read
/// in place) and runs the one-row steps of engine/decoding.hpp on buffers the decoder made once:
/// the causal self-attention half of a block against its KV cache, the cross-attention half
/// against an encoder's keys and values, the MLP half, and the output head.
#pragma once

#include <cstdint>
#include <string>

#include "engine/decoding.hpp"
#include "engine/multimax_params.hpp"
#include "engine/tensor.hpp"
#include "nn/named_tensors.hpp"

namespace mmx::nn {

/// The activations of the current position, made once per decoder and reused for every token.
struct RowBuffers {
  /// Buffers for width d_model with `head_count` heads, attention over at most `max_keys` keys, and
  /// `vocab` logits.
  RowBuffers(int64_t d_model, int64_t head_count, int64_t max_keys, int64_t vocab);
  Tensor x;        ///< [d]: the residual stream
  Tensor qkv;      ///< [3 d]: the new position's queries, keys and values, side by side
  Tensor q;        ///< [d]: a view of qkv's queries
  Tensor kv;       ///< [2 d]: a view of qkv's keys and values
  Tensor heads;    ///< [d]: the attention's heads side by side
  Tensor hidden;   ///< [4 d]: the MLP's hidden layer
  Tensor scratch;  ///< [2 heads max_keys]: the attention's scores and weights
  Tensor logits;   ///< [vocab]
};

/// A model's parameters by checkpoint name (see the file comment).
class ParameterViews {
 public:
  /// `owner` names the decoder in errors.
  ParameterViews(NamedTensors parameters, std::string owner);
  /// The parameter `name`; throws an mmx::Error when the model has none.
  Tensor operator()(const std::string& name) const;
  /// MultiMax's (t, r) under `prefix` ("<prefix>t", "<prefix>r"), of order `order`.
  MultiMaxParams multimax(const std::string& prefix, int order) const;
  /// The decoder named in errors.
  const std::string& owner() const { return owner_; }

 private:
  NamedTensors parameters_;
  std::string owner_;
};

/// How a block's attention is stored: where its parameters are and which normalizer it runs.
struct AttentionParameters {
  /// the block's prefix, e.g. "blocks.0." or "decoder.1."
  std::string block;
  /// its layer norm's name within the block, e.g. "ln1"
  std::string layer_norm;
  /// the attention's name within the block, e.g. "attn" or "cross_attn"
  std::string attention;
  /// true: one "qkv" projection (the GPT's); false: "q" and "kv" (the encoder-decoder's)
  bool fused = false;
  /// MultiMax (its "multimax.t" and "multimax.r") rather than SoftMax
  bool multimax = false;
  /// MultiMax's order
  int order = 2;
};

/// x += proj(attention(ln(x))) for one position: causal self-attention with a KV cache, or
/// cross-attention to an encoder's projected keys and values.
class AttentionHalf {
 public:
  /// Views of the parameters `where` names.
  AttentionHalf(const ParameterViews& p, const AttentionParameters& where);
  /// Self-attention: the new position's key and value go into keys/values [heads, capacity,
  /// dh] at `position`, then its query attends to [0, position].
  void run_cached(RowBuffers& b, Tensor& keys, Tensor& values, int64_t position) const;
  /// Cross-attention: the query attends to keys/values [heads, S, dh] under `key_mask` [S]
  /// (additive; undefined for none).
  void run_memory(RowBuffers& b, const Tensor& keys, const Tensor& values,
                  const Tensor& key_mask) const;

 private:
  const MultiMaxParams* normalizer() const { return multimax_.t.defined() ? &multimax_ : nullptr; }
  void add_projection(RowBuffers& b) const;  // x += proj(heads)

  RowLayerNorm ln_;
  Tensor qkv_weight_, qkv_bias_, q_weight_, q_bias_, kv_weight_, kv_bias_;
  Tensor proj_weight_, proj_bias_;
  MultiMaxParams multimax_;  ///< t undefined for SoftMax
};

/// x += out(gelu(fc(ln(x)))): the MLP half of a block, for one position.
class MlpHalf {
 public:
  /// Views of "<block><layer_norm>.*" and "<block>mlp.*".
  MlpHalf(const ParameterViews& p, const std::string& block, const std::string& layer_norm);
  /// Runs on b.x in place.
  void run(RowBuffers& b) const;

 private:
  RowLayerNorm ln_;
  Tensor fc_weight_, fc_bias_, out_weight_, out_bias_;
};

/// logits = head(ln(x)), with MultiMax's modulation when the model has one on its logits.
class OutputHead {
 public:
  /// Views of "<layer_norm>.*", "<head>.weight" (no bias) and, with `multimax_logits`,
  /// "<head>_multimax.t/r" of order `order`.
  OutputHead(const ParameterViews& p, const std::string& layer_norm, const std::string& head,
             bool multimax_logits, int order);
  /// b.x -> b.logits.
  void run(RowBuffers& b) const;

 private:
  RowLayerNorm ln_;
  Tensor head_weight_;
  MultiMaxParams multimax_;  ///< t undefined without MultiMax on the logits
};

}  // namespace mmx::nn
