/// \file
/// chrF (Popovic 2015), the character n-gram F-score, computed as sacrebleu's default CHRF does
/// (orders 1..6, beta = 2, whitespace removed), at sentence and corpus level; and exact match.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mmx::metrics {

/// The longest character n-gram counted (sacrebleu's default).
inline constexpr int kChrfOrder = 6;
/// Recall weighs beta times as much as precision (sacrebleu's default).
inline constexpr double kChrfBeta = 2.0;

/// Per n-gram order n = 1..6: n-grams in the hypothesis, in the reference, and matched
/// (the clipped count sum over n-grams of min(hypothesis count, reference count)).
struct ChrfStatistics {
  /// n-grams in the hypothesis, per order
  std::array<int64_t, kChrfOrder> hypothesis{};
  /// n-grams in the reference, per order
  std::array<int64_t, kChrfOrder> reference{};
  /// clipped matches, per order
  std::array<int64_t, kChrfOrder> matched{};
  /// Adds another pair's statistics (corpus-level sums).
  ChrfStatistics& operator+=(const ChrfStatistics& other);
};

/// Statistics of one sentence pair. Both are UTF-8 and compared by code point after every
/// Unicode white-space code point is removed (sacrebleu's re.sub(r"\s+", "", text)).
ChrfStatistics chrf_statistics(std::string_view hypothesis, std::string_view reference);

/// The score in [0, 100] from (summed) statistics: precision and recall are averaged over the
/// orders where both sides have n-grams (sacrebleu's "effective order"), then
/// F = (1 + beta^2) P R / (beta^2 P + R). No order with n-grams, or P + R = 0, gives 0.
double chrf_score(const ChrfStatistics& statistics, double beta = kChrfBeta);

/// chrF of one sentence pair: chrf_score(chrf_statistics(hypothesis, reference)).
double sentence_chrf(std::string_view hypothesis, std::string_view reference);
/// Corpus level sums the statistics of every pair before scoring (not a mean of sentence
/// scores). The two lists must have the same length (an mmx::Error otherwise).
double corpus_chrf(const std::vector<std::string>& hypotheses,
                   const std::vector<std::string>& references);

/// The share of hypotheses equal to their reference byte for byte, in [0, 1]; 0 for no pairs.
double exact_match(const std::vector<std::string>& hypotheses,
                   const std::vector<std::string>& references);

}  // namespace mmx::metrics
