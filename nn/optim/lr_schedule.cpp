#include "nn/optim/lr_schedule.hpp"

#include <cmath>
#include <numbers>

#include "engine/error.hpp"

namespace mmx::nn {

float WarmupCosineSchedule::lr_at(int64_t step) const {
  MMX_CHECK(step >= 0 && warmup_steps >= 0 && total_steps > warmup_steps,
            "WarmupCosineSchedule: need 0 <= warmup (", warmup_steps, ") < total (", total_steps,
            ") and step >= 0, got step ", step);
  if (step < warmup_steps)
    return peak_lr * static_cast<float>(step + 1) / static_cast<float>(warmup_steps);
  if (step >= total_steps) return min_lr;
  double progress = static_cast<double>(step - warmup_steps) /
                    static_cast<double>(total_steps - warmup_steps);
  double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  return static_cast<float>(min_lr + cosine * (peak_lr - min_lr));
}

}  // namespace mmx::nn
