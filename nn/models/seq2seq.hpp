/// \file
/// Seq2Seq: a character-level encoder-decoder transformer (Vaswani et al. 2017, pre-LN). The
/// encoder reads the source with non-causal self-attention; the decoder writes the target with
/// causal self-attention and cross-attention to the encoder. Parameters: "src_tok", "src_pos",
/// "encoder.i", "encoder_ln", "tgt_tok", "tgt_pos", "decoder.i", "decoder_ln", "head", and with
/// multimax_logits "head_multimax".
#pragma once

#include <memory>
#include <vector>

#include "nn/layers/embedding.hpp"
#include "nn/layers/multimax_parameters.hpp"
#include "nn/models/kv_cache.hpp"
#include "nn/models/seq2seq_layers.hpp"
#include "nn/module_list.hpp"

namespace mmx::nn {

/// The encoder's output for a batch of sources, and the additive mask [B, 1, 1, S] that hides
/// their padding (kPadId) from every attention that reads them.
struct EncodedSource {
  Tensor memory;  ///< [B, S, d]
  /// additive, [B, 1, 1, S]: 0 or -inf at padding
  Tensor mask;
};

/// Every attention map of one teacher-forced forward pass, per layer. Each map's mask hides the
/// padded keys and the rows of padded queries, so the measures see only real positions.
struct Seq2SeqAttentionMaps {
  ///@{
  /// per layer: encoder self-attention [B, H, S, S], decoder self-attention [B, H, T, T] (causal),
  /// cross-attention [B, H, T, S]
  std::vector<AttentionMap> encoder, decoder, cross;
  ///@}
};

/// What every decoding step reads of the sources: per decoder layer the cross-attention's keys
/// and values of the encoder output, computed once, and the sources' padding mask.
struct DecoderMemory {
  /// per decoder layer, the cross-attention's keys and values [B, H, S, dh]
  std::vector<KeyValues> kv;
  /// the sources' padding mask, additive, [B, 1, 1, S]
  Tensor mask;
};

/// What batched incremental decoding keeps between steps: per decoder layer the
/// cross-attention's keys and values of the encoder output (computed once) and the
/// self-attention cache.
struct DecoderState {
  /// per decoder layer, the cross-attention's keys and values
  std::vector<KeyValues> memory_kv;
  /// the source's padding mask
  Tensor memory_mask;
  KVCache self_cache;  ///< self_cache.length = the next position
};

/// A character-level encoder-decoder transformer (see the file comment).
class Seq2Seq : public Module {
 public:
  /// `seed` drives the initial weights; dropout draws from its own generator, seeded from it.
  explicit Seq2Seq(const Seq2SeqConfig& config, uint64_t seed = 0);

  /// The configuration it was built from.
  const Seq2SeqConfig& config() const { return config_; }

  /// source: batch x source_len ids (kPadId pads), row-major. `capture`, when given, receives
  /// the encoder's self-attention maps (masks: padded keys only).
  EncodedSource encode(const std::vector<int64_t>& source, int64_t batch, int64_t source_len,
                       std::vector<AttentionMap>* capture = nullptr) const;
  /// target_in: batch x target_len ids starting with kBosId (kPadId pads) -> logits
  /// [batch, target_len, vocab]. `capture`, when given, receives every attention map.
  Tensor forward(const std::vector<int64_t>& source, int64_t source_len,
                 const std::vector<int64_t>& target_in, int64_t target_len, int64_t batch,
                 Seq2SeqAttentionMaps* capture = nullptr) const;
  /// Mean cross-entropy of target_out (target_in shifted left, ending in kEosId, kPadId where
  /// there is nothing to predict; those positions don't count). `capture` as in forward().
  Tensor loss(const std::vector<int64_t>& source, int64_t source_len,
              const std::vector<int64_t>& target_in, const std::vector<int64_t>& target_out,
              int64_t target_len, int64_t batch, Seq2SeqAttentionMaps* capture = nullptr) const;

  // --- incremental decoding (inference, no autograd; call eval() first) ---
  /// Encodes the sources (batch x source_len ids, kPadId pads) and projects every decoder
  /// layer's cross-attention keys and values of them.
  DecoderMemory decoder_memory(const std::vector<int64_t>& source, int64_t batch,
                               int64_t source_len) const;
  /// Encodes the sources and sets up the state decode_step advances: the batched path, for
  /// the normalizers Seq2SeqDecoder (seq2seq_decoder.hpp) does not decode.
  DecoderState start_decoding(const std::vector<int64_t>& source, int64_t batch,
                              int64_t source_len) const;
  /// One token per row at position state.self_cache.length -> logits [batch, vocab]; the same
  /// numbers as forward() on the whole prefix. Advances the state.
  Tensor decode_step(const std::vector<int64_t>& tokens, DecoderState& state) const;

  /// The dropout stream, for checkpoints that resume bit for bit.
  Generator& dropout_generator() { return dropout_gen_; }

 private:
  Tensor embed_target(const std::vector<int64_t>& ids, int64_t batch, int64_t len,
                      int64_t start) const;
  // The decoder's last hidden states -> logits: final LayerNorm, projection, and with
  // multimax_logits the MultiMax modulation.
  Tensor head(const Tensor& x) const;

  Seq2SeqConfig config_;
  Generator init_gen_;  ///< declared before the layers: they draw from it as they are built
  Generator dropout_gen_;
  Embedding src_tok_;
  Tensor src_pos_;
  ModuleList<EncoderLayer> encoder_;
  LayerNorm encoder_ln_;
  Embedding tgt_tok_;
  Tensor tgt_pos_;
  ModuleList<DecoderLayer> decoder_;
  LayerNorm decoder_ln_;
  Linear head_;
  Dropout embedding_dropout_;
  std::unique_ptr<MultiMaxParameters> head_multimax_;  ///< with multimax_logits only
};

/// Keeps rows `rows` of every tensor in `state` (in that order, repeats allowed): beam search
/// uses it to follow each surviving hypothesis's parent, and to copy one source to k beams.
void select_rows(DecoderState& state, const std::vector<int64_t>& rows);

}  // namespace mmx::nn
