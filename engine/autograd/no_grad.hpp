/// \file
/// NoGrad: the scoped guard that turns recording off. Apart from the tape so that evaluation,
/// sampling and optimizer code, which only switch recording off, need not include the tape.
#pragma once

namespace mmx {

/// Scoped guard: no op records while it lives (evaluation, optimizer steps, sampling).
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool previous_;
};

}  // namespace mmx
