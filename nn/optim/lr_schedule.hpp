// The learning-rate schedule: linear warmup to the peak, then cosine decay to a floor, which it
// keeps after `total_steps`. Steps count from 0; the first step already gets peak/warmup.
#pragma once

#include <cstdint>

namespace mmx::nn {

struct WarmupCosineSchedule {
  float peak_lr = 1e-3f;
  float min_lr = 1e-4f;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;

  float lr_at(int64_t step) const;
};

}  // namespace mmx::nn
