// What `mmx compare` reports: per attention kind, the final validation loss and task metric as
// mean and spread over seeds, the time per training step, the mean attention S and M per layer
// and the token similarity (over-smoothing) per block. The paired differences with SoftMax are
// compare_paired.hpp's.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nn/tasks/trainer.hpp"

namespace mmx::cli {

// One finished run of the comparison.
struct CompareRun {
  std::string attention;  // "softmax", "multimax", ...
  uint64_t seed = 0;
  std::filesystem::path dir;          // its checkpoint and log.jsonl
  double items_per_step = 0;          // to turn throughput into time per step
  std::vector<nn::EvalRecord> evals;  // every evaluation in order; the last is the final one
};

// Mean and spread of one figure over seeds. `std` is the sample standard deviation (n - 1 in
// the denominator); 0 when n = 1.
struct Spread {
  double mean = 0, std = 0, min = 0, max = 0;
  int64_t n = 0;
};
Spread spread_of(const std::vector<double>& values);

struct KindSummary {
  std::string attention;
  Spread val_loss;                  // final evaluation
  std::string metric_name;          // "accuracy", "chrF"; empty for lm
  std::optional<Spread> metric;     // final evaluation
  Spread ms_per_step;               // per run: the median over its evaluation intervals
  std::vector<std::string> layers;  // attention layer names, as the trainer reports them
  std::vector<double> sparsity;     // per layer: mean over seeds of the final S
  std::vector<double> multimodality;
  std::vector<std::string> blocks;       // block names, as the trainer reports them
  std::vector<double> token_similarity;  // per block: mean over seeds of the final measure
};

// One summary per attention kind, in the order the kinds first appear in `runs`. Every run must
// have at least one evaluation; runs of one kind must agree on layers and metric.
std::vector<KindSummary> summarize_runs(const std::vector<CompareRun>& runs);

// The table printed at the end of `mmx compare` (ends with a line saying what the spread is).
std::string format_compare_table(const std::vector<KindSummary>& summaries, int64_t seeds);

// compare.json: the task, the shared options, the summaries and every run's final evaluation.
nlohmann::json compare_json(const std::string& task, const nlohmann::json& options,
                            const std::vector<CompareRun>& runs,
                            const std::vector<KindSummary>& summaries);

}  // namespace mmx::cli
