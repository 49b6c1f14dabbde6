// The paper's multi-modality M and sparsity S, support size, entropy and their attention
// averages, each against values computed by hand from the definitions in docs/design.md
// ("Sparsity and multi-modality").
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "engine/error.hpp"
#include "engine/measures.hpp"
#include "engine/normalizers.hpp"

using namespace mmx;

TEST_CASE("measures: M, S, support and entropy of one distribution, by hand") {
  // x = [3, 1, 0, -2], phi = [0.5, 0.3, 0.2, 0], eps = 0.5.
  const Tensor x = Tensor::from_data({3, 1, 0, -2}, {4});
  const Tensor phi = Tensor::from_data({0.5f, 0.3f, 0.2f, 0.0f}, {4});
  // M: only x = 1 lies in (0.5, 3): 1 - (0.5 - 0.3) = 0.8.
  CHECK(multimodality(x, phi, 0.5f).item() == doctest::Approx(0.8));
  // S with s = 0.1: x = 0 and x = -2 lie below 0.5: (exp((0.1-0.2)/0.1 - 1) + exp(0)) / 2.
  CHECK(sparsity(x, phi, 0.5f, Tensor::scalar(0.1f)).item() ==
        doctest::Approx((std::exp(-2.0) + 1.0) / 2.0));
  // The default s: the smallest SoftMax(t=1) probability of x.
  const double s = std::exp(-2.0) / (std::exp(3.0) + std::exp(1.0) + 1.0 + std::exp(-2.0));
  CHECK(softmax_min_probability(x).item() == doctest::Approx(s));
  CHECK(sparsity(x, phi, 0.5f).item() ==
        doctest::Approx((std::exp((s - 0.2) / s - 1.0) + 1.0) / 2.0));
  CHECK(support_size(phi).item() == 3.0f);
  CHECK(entropy(phi).item() ==
        doctest::Approx(-(0.5 * std::log(0.5) + 0.3 * std::log(0.3) + 0.2 * std::log(0.2))));
}

TEST_CASE("measures: per row, masked (-inf) scores count nowhere, no term gives NaN") {
  // Row 0 as above with a masked column inserted; row 1 has no score strictly between eps and
  // its maximum (M undefined) and none below eps (S undefined).
  const Tensor x = Tensor::from_data({3, -INFINITY, 1, 0, 2, 2, 2, -INFINITY}, {2, 4});
  const Tensor phi = Tensor::from_data({0.5f, 0, 0.3f, 0.2f, 1 / 3.f, 1 / 3.f, 1 / 3.f, 0}, {2, 4});
  const Tensor m = multimodality(x, phi, 0.5f);
  REQUIRE(m.shape() == Shape{2});
  CHECK(m.at({0}) == doctest::Approx(0.8));
  CHECK(std::isnan(m.at({1})));
  const Tensor sp = sparsity(x, phi, 0.5f, Tensor::from_data({0.1f, 0.1f}, {2}));
  CHECK(sp.at({0}) == doctest::Approx(std::exp(-2.0)));  // only x = 0 counts, not the -inf
  CHECK(std::isnan(sp.at({1})));
  CHECK(support_size(phi).to_vector() == std::vector<float>{3, 3});
  CHECK_THROWS_WITH_AS(multimodality(x, Tensor::zeros({4}), 0.5f),
                       doctest::Contains("multimodality: scores of shape [2, 4] and distribution "
                                         "of shape [4] differ"),
                       Error);
  CHECK_THROWS_WITH_AS(sparsity(x, phi, 0.5f, Tensor::zeros({3})),
                       doctest::Contains("sparsity: reference of shape [3]"), Error);
}

TEST_CASE("measures: attention averages with a causal mask and a per-row eps = row mean") {
  // [1, 3, 3] scores, causal: row 0 sees [5], row 1 sees [1, 2], row 2 sees [0, 3, 4].
  const Tensor scores = Tensor::from_data({5, 9, 9, 1, 2, 9, 0, 3, 4}, {1, 3, 3});
  const Tensor probs = Tensor::from_data({1, 0, 0, 0.25f, 0.75f, 0, 0.1f, 0.3f, 0.6f}, {1, 3, 3});
  const AttentionMeasures a = attention_measures(scores, probs, Tensor(), true);
  // Row 0: eps = 5, no term. Row 1: eps = 1.5, S from x = 1 only, no M term. Row 2:
  // eps = 7/3, S from x = 0, M from x = 3: 1 - (0.6 - 0.3) = 0.7.
  const double s1 = std::exp(1.0) / (std::exp(1.0) + std::exp(2.0));
  const double s2 = 1.0 / (1.0 + std::exp(3.0) + std::exp(4.0));
  const double sparsity1 = std::exp((s1 - 0.25) / s1 - 1.0);
  const double sparsity2 = std::exp((s2 - 0.1) / s2 - 1.0);
  CHECK(a.rows == 3);
  CHECK(a.sparsity_rows == 2);
  CHECK(a.multimodality_rows == 1);
  CHECK(a.sparsity == doctest::Approx((sparsity1 + sparsity2) / 2.0));
  CHECK(a.multimodality == doctest::Approx(0.7));
  CHECK(a.support == doctest::Approx(2.0));
  const double h1 = -(0.25 * std::log(0.25) + 0.75 * std::log(0.75));
  const double h2 = -(0.1 * std::log(0.1) + 0.3 * std::log(0.3) + 0.6 * std::log(0.6));
  CHECK(a.entropy == doctest::Approx((h1 + h2) / 3.0));
  // The same through an explicit mask instead of `causal`.
  const Tensor mask =
      Tensor::from_data({0, -INFINITY, -INFINITY, 0, 0, -INFINITY, 0, 0, 0}, {3, 3});
  const AttentionMeasures b = attention_measures(scores, probs, mask, false);
  CHECK(b.sparsity == doctest::Approx(a.sparsity));
  CHECK(b.multimodality == doctest::Approx(a.multimodality));
}

TEST_CASE("measures: attention S from the logits where float32 weights underflow") {
  // Each row: SoftMax weights whose smallest is below e^-87.3, so float32 holds it as 0. From
  // the probabilities alone S reads exp(-0/s) = 1; from the logits the smallest weight is s
  // itself and S = e^-1 (eps = the row's mean score puts only the smallest below it).
  struct Row {
    std::vector<float> scores;
    double sparsity;
  };
  const Row rows[] = {{{0, -100}, std::exp(-1.0)},
                      {{50, -50}, std::exp(-1.0)},
                      {{0, -1000}, std::exp(-1.0)},
                      {{3, 1}, std::exp(-1.0)}};
  for (const Row& row : rows) {
    CAPTURE(row.scores[1]);
    const Tensor scores = Tensor::from_data(row.scores, {1, 2});
    const std::vector<double> log_p = log_softmax_row(row.scores);
    const Tensor probs = Tensor::from_data(
        {static_cast<float>(std::exp(log_p[0])), static_cast<float>(std::exp(log_p[1]))}, {1, 2});
    const AttentionMeasures with_logits =
        attention_measures(scores, probs, Tensor(), false, scores);
    CHECK(with_logits.sparsity == doctest::Approx(row.sparsity));
    CHECK(with_logits.support == 2.0);
  }
  // The log-softmax itself: exact for the largest entry, -inf for a masked one.
  const std::vector<double> l = log_softmax_row({100, 0, -INFINITY});
  CHECK(l[0] == doctest::Approx(-std::exp(-100.0)).epsilon(1e-12));
  CHECK(l[0] != 0.0);
  CHECK(l[1] == doctest::Approx(-100.0));
  CHECK(l[2] == -INFINITY);
}

TEST_CASE("measures: EvSoftMax's kept weights below e^-87.3 count, from its kept logits") {
  // Mean -125.125: EvSoftMax keeps 0, -100 and -100.5 and cuts -300. float32 holds the two
  // kept weights near e^-100 as 0, so from the weights alone the support is 1; the capture
  // path (nn::capture_attention_map) hands the measures evsoftmax_logits, whose log-softmax
  // keeps them: support 3, as the definition counts.
  const Tensor scores = Tensor::from_data({0, -100, -100.5f, -300}, {1, 4});
  const Tensor logits = evsoftmax_logits(scores);
  CHECK(logits.to_vector() == std::vector<float>{0, -100, -100.5f, -INFINITY});
  const Tensor probs = evsoftmax(scores);
  CHECK(probs.to_vector() == std::vector<float>{1, 0, 0, 0});
  CHECK(attention_measures(scores, probs).support == 1.0);
  CHECK(attention_measures(scores, probs, Tensor(), false, logits).support == 3.0);
  // Causal rows and masks thin the mean as they thin the row: row 0 sees its first score
  // alone and keeps it; in row 1 the masked column counts in no mean.
  const Tensor square = Tensor::from_data({5, 9, -1, 3}, {2, 2});
  CHECK(evsoftmax_logits(square, Tensor(), true).to_vector() ==
        std::vector<float>{5, 0, -INFINITY, 3});
  const Tensor mask = Tensor::from_data({0, 0, -INFINITY, 0}, {2, 2});
  CHECK(evsoftmax_logits(square, mask).to_vector() ==
        std::vector<float>{-INFINITY, 9, -INFINITY, 3});
}
