/// \file
/// Decoding a trained Seq2Seq: greedy (batched, with or without the KV cache) and beam search
/// (the beams are the batch rows; the caches follow each hypothesis's parent every step). Both
/// decode through Seq2SeqDecoder, one row at a time, when the attentions are SoftMax or MultiMax
/// and there are at most 4 rows (sources, or beams), and through the batched
/// Seq2Seq::decode_step otherwise: past a few rows, one product for all of them is faster.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/models/seq2seq.hpp"

namespace mmx::nn {

// Sources are ids >= kFirstCharId without padding (rows may differ in length); results are
// the generated ids, EOS not included. `max_tokens` <= 0 means the model's max_target_len.
// The model must be in eval mode.

/// The argmax token every step (ties to the lower id) until EOS or max_tokens; finished rows
/// leave the batch. `use_cache` false re-runs the whole decoder on the prefix each step:
/// slower, the same tokens.
std::vector<std::vector<int64_t>> greedy_decode(const Seq2Seq& model,
                                                const std::vector<std::vector<int64_t>>& sources,
                                                int64_t max_tokens = 0, bool use_cache = true);

/// The settings of beam_search.
struct BeamSearchOptions {
  /// hypotheses kept per step
  int64_t beam_size = 4;
  /// the longest output; <= 0 means the model's max_target_len
  int64_t max_tokens = 0;
  ///@{
  /// Hypotheses are ranked by log-probability / length^length_penalty (length counts EOS);
  /// 0 ranks by log-probability alone.
  float length_penalty = 0.0f;
  /// false: every step re-runs the whole decoder on every beam's prefix (the reference the
  /// cached decoding is tested against)
  bool use_cache = true;
  void validate() const;  ///< beam_size >= 1, length_penalty finite and >= 0
  ///@}
};

/// Keeps the beam_size best unfinished hypotheses; a hypothesis ending in EOS among the step's
/// top beam_size candidates is finished. Stops when beam_size hypotheses have finished (or none
/// is left, or max_tokens is reached, when the unfinished ones count as finished). Candidates of
/// equal score rank by beam, then by lower id, so beam_size 1 is exactly greedy decoding.
std::vector<int64_t> beam_search(const Seq2Seq& model, const std::vector<int64_t>& source,
                                 const BeamSearchOptions& options);

}  // namespace mmx::nn
