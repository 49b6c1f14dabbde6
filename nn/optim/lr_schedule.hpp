/// \file
/// The learning-rate schedule: linear warmup to the peak, then cosine decay to a floor, which it
/// keeps after `total_steps`. Steps count from 0; the first step already gets peak/warmup.
#pragma once

#include <cstdint>

namespace mmx::nn {

/// Linear warmup to peak_lr, then cosine decay to min_lr at total_steps.
struct WarmupCosineSchedule {
  /// the rate at the end of the warmup
  float peak_lr = 1e-3f;
  /// the floor reached at total_steps and kept after
  float min_lr = 1e-4f;
  /// steps of linear warmup
  int64_t warmup_steps = 0;
  /// the step where the decay ends
  int64_t total_steps = 1;

  /// The learning rate of step `step` (counted from 0).
  float lr_at(int64_t step) const;
};

}  // namespace mmx::nn
