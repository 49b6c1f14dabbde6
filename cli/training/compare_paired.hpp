// `mmx compare`'s paired differences: every arm against SoftMax, seed by seed. Seed k gives both
// the arm's run and SoftMax's the same initial weights and data order, so the per-seed difference
// (arm - softmax) of the final validation loss and of the task metric is what the normalizer
// changed; nn/metrics/paired_difference.hpp turns the differences into a 95% t interval and an
// exact sign-flip p-value.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/training/compare_summary.hpp"
#include "nn/metrics/paired_difference.hpp"

namespace mmx::cli {

// The arm every other is paired with.
inline constexpr const char* kPairedBaseline = "softmax";

// One arm against the baseline.
struct PairedArm {
  std::string attention;                            // "multimax", "multimax+logits", ...
  metrics::PairedDifference val_loss;               // final validation loss, arm - baseline
  std::optional<metrics::PairedDifference> metric;  // the task metric's, when it has one
};

// Every arm but the baseline, in run order; `metric_name` "accuracy", "chrF" or empty (lm).
struct PairedComparison {
  std::string metric_name;
  std::vector<PairedArm> arms;
};

// The pairs by seed; none when the runs hold no baseline arm or no other arm. Every arm must
// have a run for each of the baseline's seeds (an mmx::Error otherwise).
std::optional<PairedComparison> pair_with_baseline(const std::vector<CompareRun>& runs);

// The table printed after the summary: per arm and figure, the mean difference, its interval,
// the p-value and, in words, whether these runs show a difference.
std::string format_paired_table(const PairedComparison& paired);

// compare.json's "paired": {baseline, level, metric, arms: [{attention, val_loss, metric}]},
// each figure {n, mean, sd, interval: [low, high] or null, p_value, p_exact, verdict}.
nlohmann::json paired_json(const PairedComparison& paired);

}  // namespace mmx::cli
