#include "nn/models/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/thread_count.hpp"
#include "nn/models/gpt_decoder.hpp"

namespace mmx::nn {

void SamplingOptions::validate() const {
  MMX_CHECK(std::isfinite(temperature) && temperature >= 0.0f, "sample: temperature must be >= 0 ",
            "(0 = greedy), got ", temperature);
  MMX_CHECK(top_k >= 0, "sample: top_k must be >= 0 (0 = off), got ", top_k);
}

int64_t pick_token(const std::vector<float>& logits, const SamplingOptions& options,
                   Generator& gen) {
  options.validate();
  const auto vocab = static_cast<int64_t>(logits.size());
  MMX_CHECK(vocab > 0, "sample: empty logits");
  for (int64_t i = 0; i < vocab; ++i)
    MMX_CHECK(std::isfinite(logits[i]), "sample: logit ", i, " is ", logits[i],
              " (the model diverged, or its checkpoint is damaged)");

  // Candidates ordered by logit, highest first, lower id first on ties (stable order).
  std::vector<int64_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  const int64_t keep = options.top_k == 0 ? vocab : std::min(options.top_k, vocab);
  const auto higher = [&](int64_t a, int64_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  if (options.temperature == 0.0f) return *std::min_element(order.begin(), order.end(), higher);
  std::partial_sort(order.begin(), order.begin() + keep, order.end(), higher);

  // softmax(logits / T) over the kept candidates, in double so a long tail adds up exactly
  // enough; the top logit is subtracted first, so exp never overflows.
  const double top = logits[order[0]];
  std::vector<double> weight(static_cast<size_t>(keep));
  double total = 0;
  for (int64_t i = 0; i < keep; ++i) {
    weight[i] = std::exp((logits[order[i]] - top) / options.temperature);
    total += weight[i];
  }
  const double target = static_cast<double>(gen.uniform()) * total;
  double cumulative = 0;
  for (int64_t i = 0; i < keep; ++i) {
    cumulative += weight[i];
    if (target < cumulative) return order[i];
  }
  return order[keep - 1];  // only reached when rounding leaves `target` at the very end
}

namespace {

// The last position's logits [vocab] of a [1, n, vocab] output.
std::vector<float> last_row(const Tensor& logits) {
  const int64_t n = logits.size(1);
  return logits.slice(1, n - 1, n).to_vector();
}

std::vector<int64_t> tail(const std::vector<int64_t>& history, int64_t length) {
  return {history.end() - length, history.end()};
}

class FullForwardLogits : public NextTokenLogits {
 public:
  explicit FullForwardLogits(const GPT& model) : model_(model) {}

  std::vector<float> next(const std::vector<int64_t>& history) override {
    NoGrad no_grad;
    const int64_t n = std::min(static_cast<int64_t>(history.size()), model_.config().seq_len);
    return last_row(model_.forward(tail(history, n), 1, n));
  }

 private:
  const GPT& model_;
};

// The window policy of sampler.hpp over a cache. Positions go through the GPTDecoder (one row
// at a time, no allocation) where it runs the model's attention, else through
// GPT::forward_incremental (SparseMax, EntMax-1.5, EvSoftMax).
class CachedLogits : public NextTokenLogits {
 public:
  explicit CachedLogits(const GPT& model) : model_(model) {
    if (GPTDecoder::supports(model.config()))
      decoder_.emplace(model);
    else
      cache_ = model.make_cache(1);
  }

  std::vector<float> next(const std::vector<int64_t>& history) override {
    const auto length = static_cast<int64_t>(history.size());
    const int64_t seq_len = model_.config().seq_len;
    if (cached() == 0) return refill(history, std::min(length, seq_len));
    // The cache holds history[window_start_, window_start_ + cached()).
    const int64_t fed = window_start_ + cached();
    MMX_CHECK(fed < length, "sample: the history must grow between calls (", length, " tokens, ",
              fed, " already decoded)");
    if (length - window_start_ > seq_len) return refill(history, std::max<int64_t>(1, seq_len / 2));
    return feed({history.begin() + fed, history.end()});
  }

 private:
  int64_t cached() const { return decoder_ ? decoder_->length() : cache_.length; }

  std::vector<float> refill(const std::vector<int64_t>& history, int64_t keep) {
    if (decoder_)
      decoder_->clear();
    else
      cache_.clear();
    window_start_ = static_cast<int64_t>(history.size()) - keep;
    return feed(tail(history, keep));
  }

  // The next positions' tokens -> the logits after the last of them.
  std::vector<float> feed(const std::vector<int64_t>& tokens) {
    if (!decoder_) return last_row(model_.forward_incremental(tokens, 1, cache_));
    for (size_t i = 0; i + 1 < tokens.size(); ++i) decoder_->step(tokens[i]);
    return decoder_->step(tokens.back()).to_vector();
  }

  const GPT& model_;
  std::optional<GPTDecoder> decoder_;
  KVCache cache_;
  int64_t window_start_ = 0;
};

}  // namespace

std::unique_ptr<NextTokenLogits> make_next_token_logits(const GPT& model, bool use_cache) {
  MMX_CHECK(!model.is_training(),
            "sample: the model is in training mode (dropout would apply); "
            "call eval() first");
  if (use_cache) return std::make_unique<CachedLogits>(model);
  return std::make_unique<FullForwardLogits>(model);
}

std::vector<int64_t> generate(const GPT& model, const std::vector<int64_t>& prompt, int64_t n_new,
                              const SamplingOptions& options, Generator& gen,
                              const TokenCallback& on_token) {
  options.validate();
  MMX_CHECK(n_new >= 0, "sample: the number of new tokens must be >= 0, got ", n_new);
  MMX_CHECK(!prompt.empty(), "sample: empty prompt; start from a token (see start_token)");
  const int64_t vocab = model.config().vocab;
  for (size_t i = 0; i < prompt.size(); ++i)
    MMX_CHECK(prompt[i] >= 0 && prompt[i] < vocab, "sample: prompt token ", i, " is id ", prompt[i],
              ", outside the vocabulary [0, ", vocab, ")");

  std::unique_ptr<NextTokenLogits> logits = make_next_token_logits(model, options.use_cache);
  std::vector<int64_t> history = prompt;
  history.reserve(prompt.size() + static_cast<size_t>(n_new));
  AdaptiveThreads threads;  // a token at a time: fewer threads when another process holds a core
  for (int64_t i = 0; i < n_new; ++i) {
    const int64_t token = [&] {
      const AdaptiveThreads::Unit unit(threads);
      return pick_token(logits->next(history), options, gen);
    }();
    history.push_back(token);
    if (on_token) on_token(token);
  }
  return {history.begin() + static_cast<int64_t>(prompt.size()), history.end()};
}

int64_t start_token(const data::CharTokenizer& tokenizer) {
  if (!tokenizer.contains(U'\n')) return 0;
  return tokenizer.encode(U"\n").front();
}

std::vector<int64_t> encode_prompt(const data::CharTokenizer& tokenizer, std::string_view text) {
  if (text.empty()) return {start_token(tokenizer)};
  return tokenizer.encode_utf8(text);
}

}  // namespace mmx::nn
