/// \file
/// Seq2SeqDecoder: a trained encoder-decoder's inference one target token at a time, for a batch
/// of rows that each follow one source: the path greedy decoding and beam search take for up to
/// 4 rows (`mmx translate`; translator.hpp). The encoder runs once per batch of sources (the full
/// forward, no tape) and each decoder layer's cross-attention keys and values are projected once
/// per source; then every new token goes, row by row, through the decoder's self-attention (each
/// row's own KV cache), the cross-attention (the source's padding masked) and the MLP with the
/// one-row steps of row_blocks.hpp: no tape, no oneDNN call and no allocation per token, the
/// weights read in place. Its logits are the full forward's (to float rounding), MultiMax
/// included, per layer or per head, in all three attentions and on the logits.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/models/row_blocks.hpp"
#include "nn/models/seq2seq.hpp"

namespace mmx::nn {

/// Decodes a Seq2Seq token by token, a batch of rows at a time (see the file comment).
class Seq2SeqDecoder {
 public:
  /// Whether the decoder runs this configuration: SoftMax or MultiMax in the encoder, the
  /// decoder and the cross-attention. The others decode through Seq2Seq::decode_step.
  static bool supports(const Seq2SeqConfig& config);

  /// Reads `model`'s parameters in place: the model must outlive the decoder, be in eval mode
  /// (dropout off) and have a configuration supports() accepts; otherwise throws an mmx::Error.
  explicit Seq2SeqDecoder(const Seq2Seq& model);

  /// Encodes `source` (batch x source_len ids, row-major, kPadId pads) and starts one row per
  /// source at target position 0. Throws on a source of padding alone.
  void start(const std::vector<int64_t>& source, int64_t batch, int64_t source_len);

  /// Feeds one token per row at position length() -> the next token's logits [rows(), vocab],
  /// valid until the next call. Throws when the target is full (max_target_len), a token is
  /// outside the vocabulary or the count is not rows().
  Tensor step(const std::vector<int64_t>& tokens);

  /// Row i becomes a copy of row rows[i] (repeats allowed; its source goes with it): beam search
  /// follows each hypothesis's parent, greedy decoding drops its finished rows.
  void select_rows(const std::vector<int64_t>& rows);

  /// Rows decoded side by side.
  int64_t rows() const { return static_cast<int64_t>(rows_.size()); }
  /// Target positions fed so far.
  int64_t length() const { return length_; }

 private:
  /// One source's cross-attention keys and values per layer, [heads, S, dh], its trailing
  /// padding cut, and its padding mask [S] (additive).
  struct Source {
    std::vector<Tensor> keys, values;
    Tensor key_mask;
  };
  /// One row: the source it follows and its self-attention cache per layer [heads, capacity, dh].
  struct Row {
    int64_t source = 0;
    std::vector<Tensor> keys, values;
  };
  /// One decoder layer: self-attention, cross-attention, MLP.
  struct Layer {
    AttentionHalf self_attention, cross_attention;
    MlpHalf mlp;
  };

  Seq2SeqDecoder(const Seq2Seq& model, const ParameterViews& parameters);
  Row empty_row() const;
  /// Runs row r's token through the decoder into logits_'s row r, with `buffers`.
  void step_row(int64_t r, int64_t token, RowBuffers& buffers);

  const Seq2Seq& model_;
  Seq2SeqConfig config_;
  Tensor tok_, pos_;
  std::vector<Layer> layers_;
  OutputHead head_;
  std::vector<Source> sources_;
  std::vector<Row> rows_, spare_;    ///< select_rows copies into spare_, then swaps
  std::vector<RowBuffers> buffers_;  ///< one per OpenMP thread: rows run side by side
  Tensor logits_;                    ///< [at least rows(), vocab]
  int64_t length_ = 0;
};

}  // namespace mmx::nn
