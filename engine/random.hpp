/// \file
/// Generator: a seeded, portable random source (xoshiro256**) whose state can be saved and
/// restored, so a resumed training run draws exactly the numbers an uninterrupted one would.
#pragma once

#include <array>
#include <cstdint>

namespace mmx {

/// A seeded xoshiro256** stream: the same numbers on every platform.
class Generator {
 public:
  /// Seeds the state from `seed` (splitmix64), so nearby seeds give unrelated streams.
  explicit Generator(uint64_t seed = 0);

  /// The next 64 random bits.
  uint64_t next_u64();
  float uniform();                 ///< [0, 1)
  float normal();                  ///< N(0, 1), Box-Muller, the same on every platform
  uint64_t below(uint64_t bound);  ///< uniform integer in [0, bound)

  /// A new stream seeded from this one's current state and `salt`, without advancing this one:
  /// whatever is drawn from it leaves this stream's later numbers as they were.
  Generator derived(uint64_t salt) const;

  /// The four 64-bit words of the xoshiro state.
  using State = std::array<uint64_t, 4>;
  /// The current state, for checkpoints.
  State state() const { return state_; }
  /// Restores a state saved with state(): the stream continues from there.
  void set_state(const State& s) { state_ = s; }

 private:
  State state_{};
};

}  // namespace mmx
