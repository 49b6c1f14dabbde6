/// \file
/// GPTDecoder: a GPT's inference one token at a time, the path `mmx sample` decodes with. It
/// holds a KV cache and every activation buffer, sized once, and runs each layer through the
/// one-row steps of engine/decoding.hpp: no tape, no allocation and no oneDNN call per token, and
/// the weights are read in place (never copied or repacked). Its logits are the full forward's
/// (to float rounding), MultiMax included, per layer or per head, in the attention and on the
/// logits.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/multimax_params.hpp"
#include "nn/models/gpt.hpp"

namespace mmx::nn {

/// Decodes a GPT token by token (see the file comment).
class GPTDecoder {
 public:
  /// Whether the decoder runs this configuration's attention (SoftMax and MultiMax); the others
  /// decode through GPT::forward_incremental.
  static bool supports(const GPTConfig& config);

  /// Reads `model`'s parameters in place: the model must outlive the decoder, be in eval mode
  /// (dropout off) and have a normalizer supports() accepts; otherwise throws an mmx::Error.
  explicit GPTDecoder(const GPT& model);

  /// Feeds `token` at the next position and returns the logits [vocab] of the token after it,
  /// valid until the next call. Throws when the context (config().seq_len) is full or the
  /// token is outside the vocabulary.
  const Tensor& step(int64_t token);

  /// Positions fed so far.
  int64_t length() const { return length_; }
  /// Forgets every position (the buffers are kept).
  void clear() { length_ = 0; }

 private:
  /// One block's parameters, views of the model's own tensors.
  struct Layer {
    Tensor ln1_weight, ln1_bias, qkv_weight, qkv_bias, proj_weight, proj_bias;
    Tensor ln2_weight, ln2_bias, fc_weight, fc_bias, out_weight, out_bias;
    MultiMaxParams multimax;  ///< t undefined for SoftMax
    Tensor keys, values;      ///< [heads, seq_len, dh], this layer's cache
  };

  GPTConfig config_;
  Tensor tok_, pos_, ln_weight_, ln_bias_, head_weight_;
  MultiMaxParams head_multimax_;  ///< t undefined without MultiMax on the logits
  std::vector<Layer> layers_;
  // Activations of the current position, reused for every token.
  Tensor x_, normed_, qkv_, heads_, hidden_, scratch_, logits_;
  int64_t length_ = 0;
};

}  // namespace mmx::nn
