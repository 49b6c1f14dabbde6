/// \file
/// Sampler: text generation from a trained GPT, token by token, either with the KV cache
/// (each new token costs one position) or by a full forward over the context window per token.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "engine/random.hpp"
#include "nn/data/char_tokenizer.hpp"
#include "nn/models/gpt.hpp"

namespace mmx::nn {

/// How pick_token chooses the next token.
struct SamplingOptions {
  float temperature = 1.0f;  ///< 0: greedy (argmax); otherwise softmax(logits / temperature)
  int64_t top_k = 0;         ///< keep the k most likely tokens; 0: all (k > vocab means all)
  bool use_cache = true;     ///< false: a full forward over the window for every token
  /// Throws an mmx::Error naming the bad field (negative or non-finite temperature, top_k < 0).
  void validate() const;
};

/// Picks one token id from one row of logits. Greedy and top-k break ties towards the lower id,
/// so top_k = 1 picks what greedy picks. Sampling draws exactly one uniform from `gen`.
int64_t pick_token(const std::vector<float>& logits, const SamplingOptions& options,
                   Generator& gen);

/// The context policy. A GPT sees at most seq_len positions; a history longer than that is cut:
/// - uncached: every token runs a full forward over the last seq_len tokens of the history;
/// - cached: the cache holds a window of the history; when a new token does not fit, the cache
///   is cleared and re-filled (one batched forward) with the last max(1, seq_len / 2) tokens,
///   then grows token by token again. Halving trades context for fewer re-fills.
/// While the history fits in seq_len both see the whole history at the same positions, so they
/// give the same logits (to float rounding) and the same tokens.
class NextTokenLogits {
 public:
  virtual ~NextTokenLogits() = default;
  /// `history`: every token so far (prompt + generated), non-empty, only ever appended to
  /// between calls. Returns the logits [vocab] for the token after it.
  virtual std::vector<float> next(const std::vector<int64_t>& history) = 0;
};
/// The model must be in eval mode (dropout off) and outlive the result.
std::unique_ptr<NextTokenLogits> make_next_token_logits(const GPT& model, bool use_cache);

/// Called with each generated token as soon as it is picked (for streaming).
using TokenCallback = std::function<void(int64_t token)>;

/// Generates `n_new` tokens after `prompt` (non-empty ids in [0, vocab); a prompt longer than
/// seq_len is cut to its tail by the policy above) and returns them (the prompt not included).
/// The same model, prompt, options and generator state give the same tokens.
std::vector<int64_t> generate(const GPT& model, const std::vector<int64_t>& prompt, int64_t n_new,
                              const SamplingOptions& options, Generator& gen,
                              const TokenCallback& on_token = nullptr);

/// The token an empty prompt starts from: newline when the vocabulary has one (text then reads
/// as if starting a fresh line), else id 0.
int64_t start_token(const data::CharTokenizer& tokenizer);

/// The prompt's ids (an error names a character outside the vocabulary), or {start_token} when
/// the text is empty.
std::vector<int64_t> encode_prompt(const data::CharTokenizer& tokenizer, std::string_view text);

}  // namespace mmx::nn
