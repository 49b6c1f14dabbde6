#include "nn/optim/lr_schedule.hpp"

#include <cmath>
#include <numbers>

#include "engine/error.hpp"

namespace mmx::nn {

namespace {
// A cosine from `from` at step `begin` to `to` at step `end` (and `to` after it).
float cosine_decay(int64_t step, int64_t begin, int64_t end, float from, float to) {
  if (step >= end) return to;
  const double progress = static_cast<double>(step - begin) / static_cast<double>(end - begin);
  const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  return static_cast<float>(to + cosine * (from - to));
}
}  // namespace

float WarmupCosineSchedule::lr_at(int64_t step) const {
  MMX_CHECK(step >= 0 && warmup_steps >= 0 && total_steps > warmup_steps,
            "WarmupCosineSchedule: need 0 <= warmup (", warmup_steps, ") < total (", total_steps,
            ") and step >= 0, got step ", step);
  if (step < warmup_steps)
    return peak_lr * static_cast<float>(step + 1) / static_cast<float>(warmup_steps);
  if (extended_at > 0 && step >= extended_at)
    return cosine_decay(step, extended_at, total_steps, extended_lr, min_lr);
  return cosine_decay(step, warmup_steps, total_steps, peak_lr, min_lr);
}

WarmupCosineSchedule WarmupCosineSchedule::extended(int64_t step, int64_t new_total) const {
  MMX_CHECK(new_total > total_steps && step >= 0 && step <= total_steps,
            "WarmupCosineSchedule: an extension needs step (", step, ") <= total (", total_steps,
            ") < new total (", new_total, ")");
  WarmupCosineSchedule s = *this;
  s.total_steps = new_total;
  // Up to the warmup's end the rate does not depend on the total; the cosine starts later.
  if (step <= warmup_steps) return s;
  s.extended_lr = lr_at(step);
  s.extended_at = step;
  return s;
}

}  // namespace mmx::nn
