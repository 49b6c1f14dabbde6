/// \file
/// RunningSums: the training loss and time summed between two evaluations, saved in checkpoints
/// so that a resumed run logs the same means as an uninterrupted one.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>

namespace mmx::nn {

struct EvalRecord;

/// See the file comment.
struct RunningSums {
  /// training losses summed since the last evaluation
  double loss_sum = 0;
  /// steps summed
  int64_t loss_count = 0;
  /// their wall time
  double seconds = 0;

  /// Counts one step: its loss and the time since `step_start`.
  void add(float loss, std::chrono::steady_clock::time_point step_start);
  /// Fills record.train_loss and record.items_per_s, then starts over.
  void report_and_reset(EvalRecord& record, double items_per_step);
  /// For checkpoints.
  nlohmann::json to_json() const;
  /// The inverse of to_json().
  static RunningSums from_json(const nlohmann::json& json);
};

}  // namespace mmx::nn
