/// \file
/// OptimOptions: what every task's training run shares (batch, schedule, AdamW, clipping,
/// evaluation cadence, seed, data, matmul precision), with its validation and JSON. Each task's
/// options derive from it, set their own defaults and add their model and evaluation fields.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/precision.hpp"
#include "nn/optim/adamw.hpp"
#include "nn/optim/lr_schedule.hpp"

namespace mmx::nn {

/// The optimisation half of a task's options (see the file comment). No defaults of its own
/// beyond clip and seed: each task states all of them in its options' constructor.
struct OptimOptions {
  /// items (sequences, images, phrase pairs) per step
  int64_t batch = 0;
  /// optimizer steps of the whole run
  int64_t steps = 0;
  float lr = 0;      ///< peak learning rate (after the warmup)
  float min_lr = 0;  ///< where the cosine decay ends
  /// steps of linear warmup
  int64_t warmup = 0;
  /// AdamW's decoupled weight decay
  float weight_decay = 0;
  /// the MultiMax (t, r)'s learning rate as a multiple of the others' (see AdamWOptions).
  /// Checkpoints written before this field existed read as 1.
  float multimax_lr_scale = 1.0f;
  float clip = 1.0f;  ///< global grad-norm clip; 0 disables
  /// steps between evaluations and checkpoints
  int64_t eval_interval = 0;
  /// weights, batch order and dropout
  uint64_t seed = 0;
  /// the task's data (file or folder); empty: the task's Debian package
  std::string data;
  /// "fp32" | "bf16": the matmuls' operand precision (weights, gradients, normalizers stay
  /// fp32). Checkpoints written before this field existed read as "fp32".
  std::string precision = "fp32";
  /// Set when `mmx train --resume --steps N` extended the run past its planned end: the step it
  /// was extended at (0: never) and the rate reached there (lr_schedule.hpp says why). Written by
  /// extended_to(), never by hand; checkpoints from before extensions read as 0.
  int64_t extended_at = 0;
  /// the learning rate the schedule had reached at extended_at
  float extended_lr = 0;

  /// Throws an mmx::Error naming the first bad field as its command-line flag.
  void validate() const;
  /// Linear warmup to lr, cosine decay to min_lr at the last step (continued past an extension).
  WarmupCosineSchedule schedule() const {
    return {lr, min_lr, warmup, steps, extended_at, extended_lr};
  }
  /// These options for a run of `steps` when its warmup was not given: the warmup keeps its
  /// share of the run (rounded down), so a short run never ends inside a long default warmup.
  void set_steps_keeping_warmup_share(int64_t new_steps);
  /// These options with the run extended from `step` to `new_steps` (> steps) total: the
  /// schedule goes on from step's rate without a jump (WarmupCosineSchedule::extended).
  void extend_to(int64_t step, int64_t new_steps);
  /// AdamW with the peak learning rate and the weight decay.
  AdamWOptions adamw() const {
    AdamWOptions o;
    o.learning_rate = lr;
    o.weight_decay = weight_decay;
    o.multimax_lr_scale = multimax_lr_scale;
    return o;
  }
  /// `precision` parsed, for a MatmulPrecisionGuard around every step, evaluation and test.
  MatmulPrecision matmul_precision() const { return parse_matmul_precision(precision); }
};

/// Writes the fields into the JSON object `j` (flat: "batch", "steps", ...), keeping its others.
void to_json(nlohmann::json& j, const OptimOptions& options);
/// Reads the fields written by to_json; a missing one is a nlohmann exception.
void from_json(const nlohmann::json& j, OptimOptions& options);

}  // namespace mmx::nn
