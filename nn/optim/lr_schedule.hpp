/// \file
/// The learning-rate schedule: linear warmup to the peak, then cosine decay to a floor, which it
/// keeps after `total_steps`. Steps count from 0; the first step already gets peak/warmup.
///
/// A run extended past its planned end (`mmx train --resume DIR --steps N`) keeps its rate
/// continuous: from the step it was extended at, the rate falls by a new cosine from the rate it
/// had reached there (`extended_lr`) to the floor at the new `total_steps`. A finished run had
/// reached the floor, so its extension trains at the floor.
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
  /// 0: never extended. Else the step the run was extended at (after the warmup): from there
  /// the rate is a cosine from extended_lr to min_lr at total_steps.
  int64_t extended_at = 0;
  /// the rate the schedule had reached at extended_at
  float extended_lr = 0;

  /// The learning rate of step `step` (counted from 0). Steps before extended_at are the run's
  /// history: they are answered as if it had never been extended, over the new total.
  float lr_at(int64_t step) const;
  /// This schedule continued to `new_total` (> total_steps) from step `step` with no jump in
  /// the rate: within the warmup the warmup goes on and the cosine is stretched; after it a new
  /// cosine starts at step's rate.
  WarmupCosineSchedule extended(int64_t step, int64_t new_total) const;
};

}  // namespace mmx::nn
