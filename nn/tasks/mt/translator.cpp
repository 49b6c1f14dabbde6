#include "nn/tasks/mt/translator.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/thread_count.hpp"
#include "nn/models/seq2seq_decoder.hpp"

namespace mmx::nn {

namespace {

struct PaddedSources {
  std::vector<int64_t> ids;
  int64_t batch = 0, length = 0;
};

PaddedSources pad_sources(const std::vector<std::vector<int64_t>>& sources) {
  MMX_CHECK(!sources.empty(), "translator: no sources");
  PaddedSources out;
  out.batch = static_cast<int64_t>(sources.size());
  for (const auto& s : sources) {
    MMX_CHECK(!s.empty(), "translator: an empty source");
    out.length = std::max<int64_t>(out.length, static_cast<int64_t>(s.size()));
  }
  out.ids.assign(out.batch * out.length, kPadId);
  for (int64_t b = 0; b < out.batch; ++b)
    std::copy(sources[b].begin(), sources[b].end(), out.ids.begin() + b * out.length);
  return out;
}

int64_t token_budget(const Seq2Seq& model, int64_t max_tokens) {
  const int64_t limit = model.config().max_target_len;
  return max_tokens <= 0 ? limit : std::min(max_tokens, limit);
}

// The most likely generable token (PAD and BOS never are); ties go to the lower id.
int64_t argmax_token(const float* row, int64_t vocab) {
  return std::max_element(row + kEosId, row + vocab) - row;
}

// The next token's logits for a batch of rows, one step at a time; select_rows keeps rows
// `rows` (in that order, repeats allowed) for the next step.
class StepDecoder {
 public:
  virtual ~StepDecoder() = default;
  // One token per row -> logits [rows, vocab], row-major, valid until the next call. Greedy
  // decoding and beam search both step here, so this one place times each step and runs it at
  // the thread count that has been fastest (fewer threads when another process holds a core).
  const float* step(const std::vector<int64_t>& tokens) {
    const AdaptiveThreads::Unit unit(threads_);
    return decode(tokens);
  }
  virtual void select_rows(const std::vector<int64_t>& rows) = 0;

 private:
  virtual const float* decode(const std::vector<int64_t>& tokens) = 0;
  AdaptiveThreads threads_;
};

// The one-row path (Seq2SeqDecoder), for SoftMax and MultiMax.
class RowDecoder final : public StepDecoder {
 public:
  RowDecoder(const Seq2Seq& model, const PaddedSources& src) : decoder_(model) {
    decoder_.start(src.ids, src.batch, src.length);
  }
  const float* decode(const std::vector<int64_t>& tokens) override {
    return decoder_.step(tokens).data();
  }
  void select_rows(const std::vector<int64_t>& rows) override { decoder_.select_rows(rows); }

 private:
  Seq2SeqDecoder decoder_;
};

// The batched KV-cache path (Seq2Seq::decode_step), for the normalizers the one-row path lacks.
class BatchedDecoder final : public StepDecoder {
 public:
  BatchedDecoder(const Seq2Seq& model, const PaddedSources& src)
      : model_(model), state_(model.start_decoding(src.ids, src.batch, src.length)) {}
  const float* decode(const std::vector<int64_t>& tokens) override {
    logits_ = model_.decode_step(tokens, state_).contiguous();
    return logits_.data();
  }
  void select_rows(const std::vector<int64_t>& rows) override { nn::select_rows(state_, rows); }

 private:
  const Seq2Seq& model_;
  DecoderState state_;
  Tensor logits_;
};

// No cache: the whole decoder re-runs on every row's prefix each step. Slow; the reference the
// cached paths are held to.
class FullForwardDecoder final : public StepDecoder {
 public:
  FullForwardDecoder(const Seq2Seq& model, const std::vector<std::vector<int64_t>>& sources)
      : model_(model), sources_(sources), prefixes_(sources.size()) {}
  const float* decode(const std::vector<int64_t>& tokens) override {
    NoGrad no_grad;
    const PaddedSources src = pad_sources(sources_);
    const int64_t length = static_cast<int64_t>(prefixes_.front().size()) + 1;
    const int64_t vocab = model_.config().vocab;
    std::vector<int64_t> prefix;
    for (size_t b = 0; b < prefixes_.size(); ++b) {
      prefixes_[b].push_back(tokens[b]);
      prefix.insert(prefix.end(), prefixes_[b].begin(), prefixes_[b].end());
    }
    const std::vector<float> all =
        model_.forward(src.ids, src.length, prefix, length, src.batch).to_vector();
    last_.resize(static_cast<size_t>(src.batch * vocab));
    for (int64_t b = 0; b < src.batch; ++b)
      std::copy_n(all.begin() + (b * length + length - 1) * vocab, vocab,
                  last_.begin() + b * vocab);
    return last_.data();
  }
  void select_rows(const std::vector<int64_t>& rows) override {
    std::vector<std::vector<int64_t>> sources, prefixes;
    for (int64_t r : rows) {
      sources.push_back(sources_.at(static_cast<size_t>(r)));
      prefixes.push_back(prefixes_.at(static_cast<size_t>(r)));
    }
    sources_ = std::move(sources);
    prefixes_ = std::move(prefixes);
  }

 private:
  const Seq2Seq& model_;
  std::vector<std::vector<int64_t>> sources_, prefixes_;  // per row
  std::vector<float> last_;
};

// The most rows the one-row path decodes. It reads every weight once per row and step, the
// batched path once per step (one oneDNN product for all rows): on the default mt model the
// one-row path was faster up to about 4 rows and slower past 8, 3x slower at 256
// (docs/performance.md, "Issue 20: the translator").
constexpr int64_t kMaxOneRowRows = 4;

// `rows`: the most rows the decoding will hold (the sources, or the beams).
std::unique_ptr<StepDecoder> step_decoder(const Seq2Seq& model,
                                          const std::vector<std::vector<int64_t>>& sources,
                                          bool use_cache, int64_t rows) {
  const PaddedSources src = pad_sources(sources);
  if (!use_cache) return std::make_unique<FullForwardDecoder>(model, sources);
  if (Seq2SeqDecoder::supports(model.config()) && rows <= kMaxOneRowRows)
    return std::make_unique<RowDecoder>(model, src);
  return std::make_unique<BatchedDecoder>(model, src);
}

}  // namespace

std::vector<std::vector<int64_t>> greedy_decode(const Seq2Seq& model,
                                                const std::vector<std::vector<int64_t>>& sources,
                                                int64_t max_tokens, bool use_cache) {
  const std::unique_ptr<StepDecoder> decoder =
      step_decoder(model, sources, use_cache, static_cast<int64_t>(sources.size()));
  const int64_t budget = token_budget(model, max_tokens), vocab = model.config().vocab;
  std::vector<std::vector<int64_t>> out(sources.size());
  std::vector<int64_t> next(sources.size(), kBosId);
  std::vector<int64_t> source_of(sources.size());  // the decoder's rows are the unfinished ones
  for (size_t b = 0; b < sources.size(); ++b) source_of[b] = static_cast<int64_t>(b);
  for (int64_t step = 0; step < budget && !next.empty(); ++step) {
    const float* logits = decoder->step(next);
    std::vector<int64_t> kept, kept_next, kept_source;
    for (size_t r = 0; r < next.size(); ++r) {
      const int64_t token = argmax_token(logits + r * vocab, vocab);
      if (token == kEosId) continue;  // finished: its row leaves the decoder
      out[source_of[r]].push_back(token);
      kept.push_back(static_cast<int64_t>(r));
      kept_next.push_back(token);
      kept_source.push_back(source_of[r]);
    }
    if (!kept.empty() && kept.size() < next.size()) decoder->select_rows(kept);
    next = std::move(kept_next);
    source_of = std::move(kept_source);
  }
  return out;
}

void BeamSearchOptions::validate() const {
  MMX_CHECK(beam_size >= 1, "beam_search: beam_size must be >= 1, got ", beam_size);
  MMX_CHECK(std::isfinite(length_penalty) && length_penalty >= 0,
            "beam_search: length_penalty must be finite and >= 0, got ", length_penalty);
}

std::vector<int64_t> beam_search(const Seq2Seq& model, const std::vector<int64_t>& source,
                                 const BeamSearchOptions& options) {
  options.validate();
  struct Hypothesis {
    std::vector<int64_t> tokens;
    double log_prob = 0;
  };
  struct Candidate {
    double log_prob;
    int64_t beam, token;
  };
  const std::unique_ptr<StepDecoder> decoder =
      step_decoder(model, {source}, options.use_cache, options.beam_size);
  const int64_t budget = token_budget(model, options.max_tokens), k = options.beam_size;
  const int64_t vocab = model.config().vocab;
  std::vector<Hypothesis> alive = {Hypothesis{}}, finished;
  std::vector<Candidate> candidates;
  for (int64_t step = 0; step < budget && !alive.empty(); ++step) {
    std::vector<int64_t> inputs;
    for (const Hypothesis& h : alive) inputs.push_back(h.tokens.empty() ? kBosId : h.tokens.back());
    const float* logits = decoder->step(inputs);
    candidates.clear();
    for (size_t i = 0; i < alive.size(); ++i) {
      const float* row = logits + i * vocab;
      const float top = *std::max_element(row, row + vocab);
      double sum = 0;
      for (int64_t v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(row[v] - top));
      const double log_norm = top + std::log(sum);
      for (int64_t v = kEosId; v < vocab; ++v)  // PAD and BOS are never generated
        candidates.push_back({alive[i].log_prob + row[v] - log_norm, static_cast<int64_t>(i), v});
    }
    std::stable_sort(
        candidates.begin(), candidates.end(),
        [](const Candidate& a, const Candidate& b) { return a.log_prob > b.log_prob; });
    std::vector<Hypothesis> next;
    std::vector<int64_t> parents;
    for (size_t rank = 0; rank < candidates.size() && static_cast<int64_t>(next.size()) < k;
         ++rank) {
      const Candidate& c = candidates[rank];
      Hypothesis h{alive[c.beam].tokens, c.log_prob};
      if (c.token == kEosId) {
        if (static_cast<int64_t>(rank) < k) finished.push_back(std::move(h));
        continue;
      }
      h.tokens.push_back(c.token);
      next.push_back(std::move(h));
      parents.push_back(c.beam);
    }
    if (static_cast<int64_t>(finished.size()) >= k) break;
    alive = std::move(next);
    if (!alive.empty()) decoder->select_rows(parents);
  }
  if (static_cast<int64_t>(finished.size()) < k)
    finished.insert(finished.end(), alive.begin(), alive.end());
  MMX_CHECK(!finished.empty(), "beam_search: no hypothesis");  // budget >= 1 always gives one
  const auto score = [&](const Hypothesis& h) {
    const double length = static_cast<double>(h.tokens.size() + 1);
    return h.log_prob / std::pow(length, static_cast<double>(options.length_penalty));
  };
  // max_element keeps the first of equal scores: the earlier-finished, better-ranked one.
  const auto best = std::max_element(
      finished.begin(), finished.end(),
      [&](const Hypothesis& a, const Hypothesis& b) { return score(a) < score(b); });
  return best->tokens;
}

}  // namespace mmx::nn
