#include "nn/metrics/chrf.hpp"

#include <algorithm>
#include <map>
#include <string>

#include "engine/error.hpp"
#include "nn/data/utf8.hpp"

namespace mmx::metrics {

namespace {

// Python's str.isspace() set, which \s matches in sacrebleu's regex.
bool is_unicode_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

std::u32string without_spaces(std::string_view text) {
  std::u32string out = data::decode_utf8(text).code_points;
  std::erase_if(out, is_unicode_space);
  return out;
}

std::map<std::u32string_view, int64_t> ngram_counts(const std::u32string& text, size_t n) {
  std::map<std::u32string_view, int64_t> counts;
  const std::u32string_view view(text);
  for (size_t i = 0; i + n <= text.size(); ++i) ++counts[view.substr(i, n)];
  return counts;
}

void check_same_length(const char* what, size_t hypotheses, size_t references) {
  MMX_CHECK(hypotheses == references, what, ": ", hypotheses, " hypotheses for ", references,
            " references");
}

}  // namespace

ChrfStatistics& ChrfStatistics::operator+=(const ChrfStatistics& other) {
  for (int i = 0; i < kChrfOrder; ++i) {
    hypothesis[i] += other.hypothesis[i];
    reference[i] += other.reference[i];
    matched[i] += other.matched[i];
  }
  return *this;
}

ChrfStatistics chrf_statistics(std::string_view hypothesis, std::string_view reference) {
  const std::u32string hyp = without_spaces(hypothesis), ref = without_spaces(reference);
  ChrfStatistics stats;
  for (int i = 0; i < kChrfOrder; ++i) {
    const size_t n = static_cast<size_t>(i) + 1;
    const auto hyp_counts = ngram_counts(hyp, n), ref_counts = ngram_counts(ref, n);
    stats.hypothesis[i] = hyp.size() >= n ? static_cast<int64_t>(hyp.size() - n + 1) : 0;
    stats.reference[i] = ref.size() >= n ? static_cast<int64_t>(ref.size() - n + 1) : 0;
    for (const auto& [ngram, count] : hyp_counts) {
      const auto found = ref_counts.find(ngram);
      if (found != ref_counts.end()) stats.matched[i] += std::min(count, found->second);
    }
  }
  return stats;
}

double chrf_score(const ChrfStatistics& statistics, double beta) {
  double precision = 0, recall = 0;
  int effective_order = 0;
  for (int i = 0; i < kChrfOrder; ++i) {
    if (statistics.hypothesis[i] == 0 || statistics.reference[i] == 0) continue;
    const double matched = static_cast<double>(statistics.matched[i]);
    precision += matched / static_cast<double>(statistics.hypothesis[i]);
    recall += matched / static_cast<double>(statistics.reference[i]);
    ++effective_order;
  }
  if (effective_order == 0 || precision + recall == 0) return 0.0;
  precision /= effective_order;
  recall /= effective_order;
  const double b2 = beta * beta;
  return 100.0 * (1 + b2) * precision * recall / (b2 * precision + recall);
}

double sentence_chrf(std::string_view hypothesis, std::string_view reference) {
  return chrf_score(chrf_statistics(hypothesis, reference));
}

double corpus_chrf(const std::vector<std::string>& hypotheses,
                   const std::vector<std::string>& references) {
  check_same_length("corpus_chrf", hypotheses.size(), references.size());
  ChrfStatistics total;
  for (size_t i = 0; i < hypotheses.size(); ++i)
    total += chrf_statistics(hypotheses[i], references[i]);
  return chrf_score(total);
}

double exact_match(const std::vector<std::string>& hypotheses,
                   const std::vector<std::string>& references) {
  check_same_length("exact_match", hypotheses.size(), references.size());
  if (hypotheses.empty()) return 0.0;
  int64_t equal = 0;
  for (size_t i = 0; i < hypotheses.size(); ++i) equal += hypotheses[i] == references[i];
  return static_cast<double>(equal) / static_cast<double>(hypotheses.size());
}

}  // namespace mmx::metrics
