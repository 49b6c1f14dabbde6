// Sampler: token picking (greedy, temperature, top-k), cached decoding against full forwards,
// the context-sliding policy, determinism, prompts, and input errors. Tiny GPTs, no checkpoint.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <set>

#include "engine/error.hpp"
#include "engine/thread_count.hpp"
#include "nn/models/sampler.hpp"

using namespace mmx;
using namespace mmx::nn;

namespace {

struct ModelCase {
  const char* name;
  AttentionKind attention;
  bool multimax_logits;
};

const ModelCase kModels[] = {
    {"softmax", AttentionKind::Softmax, false},
    {"multimax + logits", AttentionKind::MultiMax, true},
    {"sparsemax", AttentionKind::SparseMax, false},
};

constexpr int64_t kSeqLen = 10;

// A tiny GPT in eval mode with large random weights: the default init (std 0.02) gives nearly
// flat logits, where a rounding-level difference could flip a near tie between two tokens.
std::unique_ptr<GPT> tiny_gpt(const ModelCase& m = kModels[0], uint64_t seed = 1) {
  GPTConfig c;
  c.vocab = 11;
  c.d_model = 16;
  c.layers = 2;
  c.heads = 2;
  c.seq_len = kSeqLen;
  c.attention.kind = m.attention;
  c.multimax_logits = m.multimax_logits;
  auto model = std::make_unique<GPT>(c, seed);
  Generator gen(seed + 100);
  for (auto& [name, tensor] : model->state_dict())
    tensor.copy_(Tensor::randn(tensor.shape(), gen, 0.0f, 0.4f));
  model->eval();
  return model;
}

std::vector<int64_t> random_ids(int64_t n, int64_t vocab, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = static_cast<int64_t>(gen.below(static_cast<uint64_t>(vocab)));
  return ids;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

std::vector<int64_t> run(const GPT& model, const std::vector<int64_t>& prompt, int64_t n,
                         SamplingOptions options, bool use_cache, uint64_t seed) {
  options.use_cache = use_cache;
  Generator gen(seed);
  // generate picks the thread count from the load; the runs compared here need the same one.
  const FixedThreadCount fixed(max_thread_count());
  return generate(model, prompt, n, options, gen);
}

// The last position's logits of a plain forward over `window`.
std::vector<float> forward_logits(const GPT& model, const std::vector<int64_t>& window) {
  const auto n = static_cast<int64_t>(window.size());
  return model.forward(window, 1, n).slice(1, n - 1, n).to_vector();
}

std::vector<int64_t> last(const std::vector<int64_t>& ids, int64_t n) {
  return {ids.end() - n, ids.end()};
}

}  // namespace

TEST_CASE("pick_token: greedy is the argmax, lower id on ties; top_k = 1 is greedy") {
  const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f, 1.9f};
  Generator gen(3);
  CHECK(pick_token(logits, {0.0f, 0, true}, gen) == 1);
  for (float temperature : {0.5f, 1.0f, 10.0f})
    for (int i = 0; i < 20; ++i) CHECK(pick_token(logits, {temperature, 1, true}, gen) == 1);
}

TEST_CASE("pick_token: draws follow softmax(logits / T), restricted to the top k") {
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f), -30.0f};
  Generator gen(7);
  const int draws = 20000;
  std::vector<int> counts(4, 0);
  for (int i = 0; i < draws; ++i) ++counts[pick_token(logits, {1.0f, 0, true}, gen)];
  CHECK(counts[0] / double(draws) == doctest::Approx(0.5).epsilon(0.05));
  CHECK(counts[1] / double(draws) == doctest::Approx(0.3).epsilon(0.05));
  CHECK(counts[2] / double(draws) == doctest::Approx(0.2).epsilon(0.05));

  // T = 2 flattens: p ~ sqrt(0.5, 0.3, 0.2), normalized over the top 2.
  const double p0 = std::sqrt(0.5) / (std::sqrt(0.5) + std::sqrt(0.3));
  int first = 0;
  for (int i = 0; i < draws; ++i) {
    const int64_t token = pick_token(logits, {2.0f, 2, true}, gen);
    REQUIRE(token < 2);
    first += token == 0;
  }
  CHECK(first / double(draws) == doctest::Approx(p0).epsilon(0.03));

  // k above the vocabulary means all tokens.
  std::set<int64_t> seen;
  for (int i = 0; i < 2000; ++i) seen.insert(pick_token(logits, {1.0f, 100, true}, gen));
  CHECK(seen == std::set<int64_t>{0, 1, 2});
}

TEST_CASE("pick_token: bad options and non-finite logits are errors") {
  Generator gen(0);
  const std::vector<float> logits = {0.0f, 1.0f};
  CHECK_THROWS_WITH_AS(pick_token(logits, {-0.5f, 0, true}, gen),
                       doctest::Contains("temperature must be >= 0"), Error);
  CHECK_THROWS_AS(pick_token(logits, {std::numeric_limits<float>::quiet_NaN(), 0, true}, gen),
                  Error);
  CHECK_THROWS_AS(pick_token(logits, {std::numeric_limits<float>::infinity(), 0, true}, gen),
                  Error);
  CHECK_THROWS_WITH_AS(pick_token(logits, {1.0f, -1, true}, gen),
                       doctest::Contains("top_k must be >= 0"), Error);
  CHECK_THROWS_WITH_AS(pick_token({0.0f, std::nanf("")}, {1.0f, 0, true}, gen),
                       doctest::Contains("logit 1"), Error);
}

TEST_CASE("cached and uncached logits follow the context policy, before and after sliding") {
  for (const ModelCase& m : kModels) {
    CAPTURE(m.name);
    const auto model = tiny_gpt(m);
    const std::vector<int64_t> ids = random_ids(3 * kSeqLen, model->config().vocab, 5);
    auto cached = make_next_token_logits(*model, true);
    auto full = make_next_token_logits(*model, false);
    // A 3-token prompt goes in as one batch (prefill), then one token per call. The cache
    // holds a window that restarts from the last kSeqLen / 2 tokens each time it is full.
    int64_t cached_window = 0;
    for (int64_t n = 3; n <= static_cast<int64_t>(ids.size()); ++n) {
      CAPTURE(n);
      const std::vector<int64_t> history(ids.begin(), ids.begin() + n);
      cached_window = n == 3 ? 3 : cached_window == kSeqLen ? kSeqLen / 2 : cached_window + 1;
      const std::vector<float> want_full =
          forward_logits(*model, last(history, std::min(n, kSeqLen)));
      const std::vector<float> want_cached = forward_logits(*model, last(history, cached_window));
      CHECK(max_abs_diff(full->next(history), want_full) == 0.0f);
      CHECK(max_abs_diff(cached->next(history), want_cached) < 1e-5f);
      if (n <= kSeqLen) CHECK(max_abs_diff(want_cached, want_full) == 0.0f);
    }
  }
}

TEST_CASE("a prompt longer than seq_len: both paths start from its last seq_len tokens") {
  const auto model = tiny_gpt();
  const std::vector<int64_t> prompt = random_ids(kSeqLen + 4, model->config().vocab, 9);
  const std::vector<float> want = forward_logits(*model, last(prompt, kSeqLen));
  CHECK(max_abs_diff(make_next_token_logits(*model, true)->next(prompt), want) < 1e-5f);
  CHECK(max_abs_diff(make_next_token_logits(*model, false)->next(prompt), want) == 0.0f);
}

TEST_CASE("cached and uncached decoding pick the same tokens while the context fits") {
  const SamplingOptions settings[] = {
      {0.0f, 0, true}, {1.0f, 0, true}, {0.7f, 4, true}, {1.5f, 0, true}};
  for (const ModelCase& m : kModels) {
    const auto model = tiny_gpt(m);
    for (const SamplingOptions& options : settings) {
      CAPTURE(m.name);
      CAPTURE(options.temperature);
      CAPTURE(options.top_k);
      const std::vector<int64_t> prompt = random_ids(2, model->config().vocab, 11);
      // The last token is picked from a history of kSeqLen tokens: the window is just full.
      const int64_t n_new = kSeqLen - 1;
      const std::vector<int64_t> cached = run(*model, prompt, n_new, options, true, 42);
      CHECK(cached.size() == static_cast<size_t>(n_new));
      CHECK(cached == run(*model, prompt, n_new, options, false, 42));
    }
  }
}

TEST_CASE("top_k = 1 decodes what greedy decodes") {
  const auto model = tiny_gpt(kModels[1]);
  const std::vector<int64_t> prompt = {3, 1, 4};
  const std::vector<int64_t> greedy = run(*model, prompt, 25, {0.0f, 0, true}, true, 0);
  CHECK(run(*model, prompt, 25, {0.8f, 1, true}, true, 123) == greedy);
  CHECK(run(*model, prompt, 25, {3.0f, 1, true}, false, 7) == greedy);
}

TEST_CASE("same seed, same tokens; another seed, other tokens; sliding stays deterministic") {
  const auto model = tiny_gpt();
  const std::vector<int64_t> prompt = {5};
  const SamplingOptions hot{2.0f, 0, true};
  const int64_t n_new = 4 * kSeqLen;  // slides several times
  for (bool use_cache : {true, false}) {
    CAPTURE(use_cache);
    const std::vector<int64_t> a = run(*model, prompt, n_new, hot, use_cache, 1);
    CHECK(a.size() == static_cast<size_t>(n_new));
    for (int64_t id : a) CHECK((id >= 0 && id < model->config().vocab));
    CHECK(a == run(*model, prompt, n_new, hot, use_cache, 1));
    CHECK(a != run(*model, prompt, n_new, hot, use_cache, 2));
  }
}

TEST_CASE("generate streams each token to the callback, in order") {
  const auto model = tiny_gpt();
  std::vector<int64_t> streamed;
  Generator gen(4);
  const std::vector<int64_t> out = generate(*model, {2, 7}, 15, {1.0f, 0, true}, gen,
                                            [&](int64_t token) { streamed.push_back(token); });
  CHECK(streamed == out);
  Generator again(4);
  CHECK(generate(*model, {2, 7}, 0, {1.0f, 0, true}, again).empty());
}

TEST_CASE("generate: input errors") {
  const auto model = tiny_gpt();
  Generator gen(0);
  CHECK_THROWS_WITH_AS(generate(*model, {1}, 5, {-1.0f, 0, true}, gen),
                       doctest::Contains("temperature must be >= 0"), Error);
  CHECK_THROWS_WITH_AS(generate(*model, {1}, 5, {1.0f, -2, true}, gen), doctest::Contains("top_k"),
                       Error);
  CHECK_THROWS_WITH_AS(generate(*model, {1}, -1, {}, gen), doctest::Contains("new tokens"), Error);
  CHECK_THROWS_WITH_AS(generate(*model, {}, 5, {}, gen), doctest::Contains("empty prompt"), Error);
  CHECK_THROWS_WITH_AS(generate(*model, {1, 11}, 5, {}, gen), doctest::Contains("id 11"), Error);
  CHECK_THROWS_WITH_AS(generate(*model, {-1}, 5, {}, gen), doctest::Contains("id -1"), Error);
  model->train();
  CHECK_THROWS_WITH_AS(generate(*model, {1}, 5, {}, gen), doctest::Contains("eval()"), Error);
}

TEST_CASE("prompts: an empty one starts from a newline, or id 0 without one") {
  // Vocabularies are sorted by code point: tab (9) comes before newline (10).
  const data::CharTokenizer newline_later({U'\t', U'\n', U'a'});
  CHECK(start_token(newline_later) == 1);
  const data::CharTokenizer without({U'a', U'b', U'c'});
  CHECK(start_token(without) == 0);
  CHECK(encode_prompt(newline_later, "") == std::vector<int64_t>{1});
  CHECK(encode_prompt(without, "cab") == std::vector<int64_t>{2, 0, 1});
  CHECK_THROWS_WITH_AS(encode_prompt(without, "abz"), doctest::Contains("z"), Error);
}
