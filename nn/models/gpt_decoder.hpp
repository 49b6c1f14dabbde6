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

#include "nn/models/gpt.hpp"
#include "nn/models/row_blocks.hpp"

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
  GPTDecoder(const GPT& model, const ParameterViews& parameters);

  /// One block: its two halves and its cache.
  struct Layer {
    AttentionHalf attention;
    MlpHalf mlp;
    Tensor keys, values;  ///< [heads, seq_len, dh]
  };

  GPTConfig config_;
  Tensor tok_, pos_;
  std::vector<Layer> layers_;
  OutputHead head_;
  RowBuffers buffers_;  ///< the current position's activations, reused for every token
  int64_t length_ = 0;
};

}  // namespace mmx::nn
