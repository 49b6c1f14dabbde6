// Generator: a seeded, portable random source (xoshiro256**) whose state can be saved and
// restored, so a resumed training run draws exactly the numbers an uninterrupted one would.
#pragma once

#include <array>
#include <cstdint>

namespace mmx {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0);

  uint64_t next_u64();
  float uniform();                  // [0, 1)
  float normal();                   // N(0, 1), Box-Muller, the same on every platform
  uint64_t below(uint64_t bound);   // uniform integer in [0, bound)

  using State = std::array<uint64_t, 4>;
  State state() const { return state_; }
  void set_state(const State& s) { state_ = s; }

 private:
  State state_{};
};

}  // namespace mmx
