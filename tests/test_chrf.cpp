// chrF against values worked out by hand (sacrebleu's default CHRF: orders 1..6, beta 2,
// whitespace removed, precision and recall averaged over the effective orders), and exact match.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/error.hpp"
#include "nn/metrics/chrf.hpp"

using namespace mmx;
using namespace mmx::metrics;

TEST_CASE("sentence_chrf: hand-computed table") {
  struct Row {
    const char* what;
    std::string hypothesis, reference;
    double expected;
  };
  const std::vector<Row> rows = {
      {"identical", "the cat sat", "the cat sat", 100.0},
      {"identical single character", "a", "a", 100.0},
      {"disjoint characters", "abc", "xyz", 0.0},
      {"empty hypothesis", "", "abc", 0.0},
      {"both empty", "", "", 0.0},
      // n=1: P 2/2 R 2/3; n=2: P 1/1 R 1/2; n>=3 no hypothesis n-grams. P 1, R 7/12,
      // F = 5 * 7/12 / (4 + 7/12) = 7/11.
      {"prefix", "ab", "abc", 100.0 * 7.0 / 11.0},
      // Whitespace is removed before counting: same as "ab" vs "abc".
      {"whitespace ignored", "a b", "a\tbc ", 100.0 * 7.0 / 11.0},
      // n=1: 3 hypothesis unigrams, 1 matched (clipped); n=2 has no reference bigram.
      // P 1/3, R 1: F = 5/3 / (4/3 + 1) = 5/7.
      {"clipped counts", "aaa", "a", 100.0 * 5.0 / 7.0},
      // Code points, not bytes: n=1 3/4, n=2 2/3, n=3 1/2, n=4 0; P = R = 23/48.
      {"umlaut is one character",
       "\xC3\xBC"
       "ber",
       "uber", 100.0 * 23.0 / 48.0},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    CHECK(sentence_chrf(row.hypothesis, row.reference) == doctest::Approx(row.expected));
  }
}

TEST_CASE("chrf_statistics: counts per order") {
  const ChrfStatistics s = chrf_statistics("abab", "ab");
  CHECK(s.hypothesis[0] == 4);
  CHECK(s.reference[0] == 2);
  CHECK(s.matched[0] == 2);
  CHECK(s.hypothesis[1] == 3);  // ab, ba, ab
  CHECK(s.matched[1] == 1);     // "ab" clipped to the reference's one
  CHECK(s.reference[2] == 0);
}

TEST_CASE("corpus_chrf sums statistics before scoring") {
  // n=1: hyp 3 ref 4 matched 2; n=2: hyp 1 ref 2 matched 1. P = (2/3 + 1)/2 = 5/6,
  // R = (1/2 + 1/2)/2 = 1/2, F = 5 * 5/12 / (10/3 + 1/2) = 25/46.
  const std::vector<std::string> hyps = {"ab", "x"}, refs = {"abc", "y"};
  CHECK(corpus_chrf(hyps, refs) == doctest::Approx(100.0 * 25.0 / 46.0));
  // Not the mean of the sentence scores (7/11 and 0).
  CHECK(corpus_chrf(hyps, refs) != doctest::Approx(50.0 * 7.0 / 11.0));
  CHECK(corpus_chrf({"x y z"}, {"xyz"}) == doctest::Approx(100.0));
  CHECK_THROWS_AS(corpus_chrf({"a"}, {}), Error);
}

TEST_CASE("exact_match") {
  CHECK(exact_match({"a", "b", "c", "d"}, {"a", "x", "c", "D"}) == doctest::Approx(0.5));
  CHECK(exact_match({}, {}) == 0.0);
  CHECK(exact_match({"a b"}, {"ab"}) == 0.0);  // whitespace matters here
  CHECK_THROWS_AS(exact_match({"a"}, {"a", "b"}), Error);
}
