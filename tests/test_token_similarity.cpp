// The over-smoothing measure (nn/metrics/token_similarity.hpp): the mean pairwise cosine
// similarity of a sequence's tokens, by hand on vectors whose answer is known, against the
// pair-by-pair definition on random vectors with padding, and in every task's evaluation record.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/error.hpp"
#include "engine/random.hpp"
#include "nn/metrics/token_similarity.hpp"
#include "nn/tasks/trainer.hpp"
#include "scratch_dir.hpp"
#include "tiny_task_data.hpp"

using namespace mmx;

namespace {
// The definition, pair by pair.
double naive_mean_cosine(const std::vector<float>& x, int64_t batch, int64_t length, int64_t width,
                         const std::vector<bool>& real) {
  double total = 0;
  int64_t sequences = 0;
  for (int64_t b = 0; b < batch; ++b) {
    double sum = 0;
    int64_t pairs = 0;
    for (int64_t i = 0; i < length; ++i)
      for (int64_t j = i + 1; j < length; ++j) {
        if (!real[static_cast<size_t>(b * length + i)] ||
            !real[static_cast<size_t>(b * length + j)])
          continue;
        double dot = 0, ni = 0, nj = 0;
        for (int64_t k = 0; k < width; ++k) {
          const double u = x[static_cast<size_t>((b * length + i) * width + k)];
          const double v = x[static_cast<size_t>((b * length + j) * width + k)];
          dot += u * v;
          ni += u * u;
          nj += v * v;
        }
        sum += dot / std::sqrt(ni * nj);
        ++pairs;
      }
    if (pairs > 0) {
      total += sum / static_cast<double>(pairs);
      ++sequences;
    }
  }
  return total / static_cast<double>(sequences);
}
}  // namespace

TEST_CASE("token similarity: identical tokens give 1, orthogonal 0, opposite -1") {
  // Three copies of one vector (scaled: the cosine ignores length).
  CHECK(nn::mean_pairwise_cosine(Tensor::from_data({1, 2, 3, 2, 4, 6, 0.5f, 1, 1.5f}, {1, 3, 3})) ==
        doctest::Approx(1));
  // The three unit axes.
  CHECK(std::abs(nn::mean_pairwise_cosine(
            Tensor::from_data({1, 0, 0, 0, 2, 0, 0, 0, 3}, {1, 3, 3}))) < 1e-12);
  CHECK(nn::mean_pairwise_cosine(Tensor::from_data({1, 1, -1, -1}, {1, 2, 2})) ==
        doctest::Approx(-1));
  // Two sequences average: 1 and 0 give 0.5. A zero vector counts cosine 0 with each other:
  // pairs (a, a) 1, (a, 0) 0, (a, 0) 0 -> 1/3.
  CHECK(nn::mean_pairwise_cosine(Tensor::from_data({1, 0, 1, 0, 1, 0, 0, 1}, {2, 2, 2})) ==
        doctest::Approx(0.5));
  CHECK(nn::mean_pairwise_cosine(Tensor::from_data({1, 0, 2, 0, 0, 0}, {1, 3, 2})) ==
        doctest::Approx(1.0 / 3));
  // Padding: the opposite token is left out, and a sequence with one real token has no pair.
  const Tensor t = Tensor::from_data({1, 0, 2, 0, -1, 0}, {1, 3, 2});
  CHECK(nn::mean_pairwise_cosine(t, {true, true, false}) == doctest::Approx(1));
  CHECK(std::isnan(nn::mean_pairwise_cosine(t, {true, false, false})));
  CHECK_THROWS_AS(nn::mean_pairwise_cosine(t, {true}), Error);
}

TEST_CASE("token similarity: the one-pass sum equals the pair-by-pair definition") {
  Generator gen(11);
  const int64_t batch = 3, length = 7, width = 5;
  std::vector<float> x;
  std::vector<bool> real;
  for (int64_t i = 0; i < batch * length * width; ++i) x.push_back(gen.normal() + 0.3f);
  for (int64_t i = 0; i < batch * length; ++i) real.push_back(gen.below(4) != 0);
  const Tensor tokens = Tensor::from_data(x, {batch, length, width});
  CHECK(nn::mean_pairwise_cosine(tokens, real) ==
        doctest::Approx(naive_mean_cosine(x, batch, length, width, real)).epsilon(1e-9));
}

TEST_CASE("token similarity: padded queries of an attention map are left out") {
  // Sequence 0 has its last position padded (its mask row all -inf) and that token points the
  // other way; sequence 1 is all real. Unpadded, sequence 0 would average (1 - 1 - 1) / 3.
  nn::AttentionMap map;
  map.block_output = Tensor::from_data({1, 1, 2, 2, -1, -1, 1, 0, 0, 1, 1, 1}, {2, 3, 2});
  map.scores = Tensor::zeros({2, 1, 3, 3});
  const float inf = INFINITY;
  map.mask = Tensor::from_data(
      {0, 0, -inf, 0, 0, -inf, -inf, -inf, -inf, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {2, 1, 3, 3});
  // Sequence 1: cos(e1, e2) = 0, cos(e1, (1,1)) = cos(e2, (1,1)) = 1/sqrt(2): mean sqrt(2)/3.
  CHECK(nn::token_similarity(map) == doctest::Approx(0.5 * (1 + std::sqrt(2.0) / 3)));
  map.block_output = Tensor();
  CHECK(std::isnan(nn::token_similarity(map)));
}

TEST_CASE("token similarity: every task logs it per block, in [-1, 1]") {
  ScratchDir dir("token-similarity");
  write_tiny_image_set(dir / "images");
  struct Case {
    std::string task;
    nlohmann::json options;
    std::vector<std::string> blocks;
  };
  const std::vector<Case> cases = {
      {"lm",
       {{"model", {{"d_model", 16}, {"layers", 2}, {"heads", 2}, {"seq_len", 16}}},
        {"batch", 4},
        {"eval_batch", 4},
        {"data",
         write_word_corpus(dir / "corpus.txt", 3, {"red ", "green ", "blue\n"}, 600).string()}},
       {"0", "1"}},
      {"vit",
       {{"model", {{"patch_size", 4}, {"d_model", 16}, {"layers", 2}, {"heads", 2}}},
        {"batch", 16},
        {"val_images", 40},
        {"data", (dir / "images").string()}},
       {"0", "1"}},
      {"mt",
       {{"model", {{"d_model", 16}, {"heads", 2}, {"encoder_layers", 1}, {"decoder_layers", 2}}},
        {"batch", 8},
        {"eval_pairs", 8},
        {"max_chars", 24},
        {"data", write_tiny_phrase_file(dir / "phrases.txt").string()}},
       {"enc.0", "dec.0", "dec.1"}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.task);
    nlohmann::json o = c.options;
    o["steps"] = 2;
    o["warmup"] = 1;
    o["eval_interval"] = 2;
    std::unique_ptr<nn::Trainer> trainer = nn::make_trainer(c.task, o);
    trainer->train_step();
    const nn::EvalRecord r = trainer->evaluate();
    CHECK(r.blocks == c.blocks);
    REQUIRE(r.token_similarity.size() == c.blocks.size());
    for (double v : r.token_similarity) {
      CHECK(std::isfinite(v));
      CHECK(v >= -1);
      CHECK(v <= 1);
    }
    // The log line carries it, and an older line without it still reads.
    const nn::EvalRecord back = nn::EvalRecord::from_json(r.to_json());
    CHECK(back.token_similarity == r.token_similarity);
    nlohmann::json old = r.to_json();
    old.erase("blocks");
    old.erase("token_similarity");
    CHECK(nn::EvalRecord::from_json(old).blocks.empty());
    // No value (no sequence with two real tokens) is NaN, written as null and read back.
    nn::EvalRecord none = r;
    none.token_similarity[0] = NAN;
    const nlohmann::json written = nlohmann::json::parse(none.to_json().dump());
    CHECK(written.at("token_similarity")[0].is_null());
    CHECK(std::isnan(nn::EvalRecord::from_json(written).token_similarity[0]));
    nlohmann::json bad = r.to_json();
    bad["token_similarity"][0] = "high";
    CHECK_THROWS_WITH_AS(nn::EvalRecord::from_json(bad), doctest::Contains("token_similarity"),
                         Error);
  }
}
