#include "nn/tasks/mt/translator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"

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

// Logits [batch, vocab] for the next token of every row, by a full decoder pass over `prefix`
// (batch x length, starting with BOS).
std::vector<float> uncached_next_logits(const Seq2Seq& model, const PaddedSources& src,
                                        const std::vector<int64_t>& prefix, int64_t length) {
  NoGrad no_grad;
  const int64_t vocab = model.config().vocab;
  const std::vector<float> all =
      model.forward(src.ids, src.length, prefix, length, src.batch).to_vector();
  std::vector<float> last(src.batch * vocab);
  for (int64_t b = 0; b < src.batch; ++b)
    std::copy_n(all.begin() + (b * length + length - 1) * vocab, vocab, last.begin() + b * vocab);
  return last;
}

}  // namespace

std::vector<std::vector<int64_t>> greedy_decode(const Seq2Seq& model,
                                                const std::vector<std::vector<int64_t>>& sources,
                                                int64_t max_tokens, bool use_cache) {
  const PaddedSources src = pad_sources(sources);
  const int64_t budget = token_budget(model, max_tokens), vocab = model.config().vocab;
  std::vector<std::vector<int64_t>> out(src.batch);
  std::vector<bool> done(src.batch, false);
  std::vector<int64_t> next(src.batch, kBosId);
  std::vector<int64_t> prefix;  // uncached only: batch x step, rebuilt each step
  DecoderState state;
  if (use_cache) state = model.start_decoding(src.ids, src.batch, src.length);
  for (int64_t step = 0; step < budget; ++step) {
    std::vector<float> logits;
    if (use_cache) {
      logits = model.decode_step(next, state).to_vector();
    } else {
      prefix.assign(src.batch * (step + 1), kPadId);
      for (int64_t b = 0; b < src.batch; ++b) {
        prefix[b * (step + 1)] = kBosId;
        std::copy(out[b].begin(), out[b].end(), prefix.begin() + b * (step + 1) + 1);
      }
      logits = uncached_next_logits(model, src, prefix, step + 1);
    }
    bool all_done = true;
    for (int64_t b = 0; b < src.batch; ++b) {
      if (done[b]) continue;  // a finished row keeps its cache slot, fed EOS; output is final
      next[b] = argmax_token(logits.data() + b * vocab, vocab);
      if (next[b] == kEosId)
        done[b] = true;
      else
        out[b].push_back(next[b]);
      all_done = all_done && done[b];
    }
    if (all_done) break;
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
  const PaddedSources src = pad_sources({source});
  const int64_t budget = token_budget(model, options.max_tokens), k = options.beam_size;
  const int64_t vocab = model.config().vocab;
  DecoderState state = model.start_decoding(src.ids, 1, src.length);
  std::vector<Hypothesis> alive = {Hypothesis{}}, finished;
  std::vector<Candidate> candidates;
  for (int64_t step = 0; step < budget && !alive.empty(); ++step) {
    std::vector<int64_t> inputs;
    for (const Hypothesis& h : alive) inputs.push_back(h.tokens.empty() ? kBosId : h.tokens.back());
    const std::vector<float> logits = model.decode_step(inputs, state).to_vector();
    candidates.clear();
    for (size_t i = 0; i < alive.size(); ++i) {
      const float* row = logits.data() + i * vocab;
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
    if (!alive.empty()) select_rows(state, parents);
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
