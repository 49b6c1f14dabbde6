/// \file
/// How many OpenMP threads the engine's work uses. A training step opens ~180 parallel regions
/// and a decoded token ~30, each ending in a barrier that waits for the slowest thread. When
/// another process holds one of the cores, the thread that shares a core with it is often
/// descheduled, and every barrier waits for the scheduler to run it again: 2-thread runs on a
/// 2-core machine were 6-60x slower, where one thread would have lost about half (measured in
/// docs/performance.md, "Threads"). So, unless the user fixed the count, a unit of work that is
/// repeated (a training step, a decoded token) runs at the count an AdaptiveThreads measured to
/// be fastest: all cores on an idle machine, fewer when some are taken.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace mmx {

/// Fixes the thread count of all later work at `threads` (> 0: AdaptiveThreads then keeps it),
/// or with 0 leaves it to AdaptiveThreads, between 1 and OpenMP's maximum (OMP_NUM_THREADS, or
/// one per core); 0 also sets OpenMP's count back to that maximum and forgets the probes that
/// AdaptiveThreads lost, so adaptive work starts from the same state whatever ran before.
/// Negative counts are an mmx::Error.
void set_thread_count(int threads);
/// The count set_thread_count fixed, or 0 when AdaptiveThreads chooses it.
int fixed_thread_count();
/// The most threads later work runs at: the count set_thread_count fixed, or else OpenMP's
/// maximum as the process was configured before anything lowered it (OMP_NUM_THREADS, or one per
/// core), which is AdaptiveThreads' ceiling. omp_get_max_threads() is not that: between units of
/// an AdaptiveThreads it is the count the units chose, fewer on a busy machine.
int max_thread_count();

/// The count a process's first AdaptiveThreads starts at, from `loadavg`, the text of Linux's
/// /proc/loadavg, whose fourth field ("running/total") counts the tasks runnable right now, the
/// reader included: the cores the others leave, between 1 and `max`; `max` where the text does
/// not say. A fresh process on a machine with a busy core would otherwise run its first units at
/// all cores, each stalled by the busy one (a 2-thread token at 10-25 ms against 0.7-1 ms), which
/// cost as much as a whole 64-token decode.
int starting_thread_count(const std::string& loadavg, int max);

/// Fixes the thread count for a scope and restores the previous setting on exit. A run that is
/// to be compared bit for bit with another needs this: results that add per-thread partial sums
/// change in their last bits with the count (tests/test_determinism.cpp).
class FixedThreadCount {
 public:
  /// Fixes the count at `threads` (> 0) until the guard is destroyed.
  explicit FixedThreadCount(int threads);
  /// Restores the previous setting (fixed, or chosen by AdaptiveThreads) and OpenMP's count as
  /// it was, which between adaptive units is the count they chose.
  ~FixedThreadCount();
  FixedThreadCount(const FixedThreadCount&) = delete;
  FixedThreadCount& operator=(const FixedThreadCount&) = delete;

 private:
  int previous_fixed_, previous_count_;
};

/// Chooses the thread count of a unit of work that runs many times, by timing it. The unit runs
/// at the current count; every so often a probe runs it at a neighbouring count (one fewer or
/// one more thread), and the probe's count becomes the current one when it was clearly faster
/// than the current count's recent units. A probe that loses is tried again later, the longer
/// the more it cost, so an idle machine pays well under 1% for the probes once settled; a unit
/// far slower than the recent ones (more load) brings a probe of one thread fewer forward.
/// OpenMP's count stays at the current count between units too, so what runs between them (an
/// evaluation, a checkpoint save) gets the count the load allows rather than all cores.
class AdaptiveThreads {
 public:
  /// Starts at the count the last AdaptiveThreads of this process switched to, or else at the
  /// cores the machine's other runnable tasks leave free right now (starting_thread_count), at
  /// most OpenMP's configured maximum (OMP_NUM_THREADS, or one per core; see max_thread_count),
  /// which is also the most it probes. A count whose probe another AdaptiveThreads of the process
  /// lost lately is not probed again until that one's schedule would have (unless more load brings
  /// a probe of fewer threads forward). With a fixed count (set_thread_count) it reads nothing:
  /// its units run at that count.
  AdaptiveThreads();

  /// One unit of work: sets the count while it lives and records its time when it ends.
  class Unit {
   public:
    /// Starts timing a unit of `owner` at the count it picks.
    explicit Unit(AdaptiveThreads& owner);
    /// Records the unit's time and sets OpenMP's count to the owner's current count (which the
    /// unit's time may have just changed), the count that the work until the next unit runs at.
    ~Unit();
    Unit(const Unit&) = delete;
    Unit& operator=(const Unit&) = delete;

   private:
    AdaptiveThreads& owner_;
    int64_t start_ns_;
  };

  /// The count the next unit runs at that is not a probe.
  int threads() const { return current_; }
  /// Units run so far at a count other than the current one's (the probes).
  int64_t probe_units() const { return probe_units_; }

 private:
  int next_unit_threads();
  void record(double seconds);
  double recent_seconds() const;  // median of the current count's last units
  void push_recent(double seconds);

  int max_;
  int current_;
  int unit_threads_ = 0;  // the count the unit in progress runs at
  // The current count's last units, as a ring; `recent_count_` of them are filled.
  std::array<double, 3> recent_{};
  int recent_count_ = 0, recent_next_ = 0;
  int64_t until_probe_ = 3;  // units at the current count before the next probe
  int64_t probe_period_ = 8;
  int probe_threads_ = 0;   // the count being probed (0: none)
  int probe_left_ = 0;      // units of the probe still to run
  double probe_best_ = 0;   // the fastest probe unit so far (its first may create primitives)
  double probe_cost_ = 0;   // the probe's time beyond the current count's, so far
  bool probe_down_ = true;  // which neighbour the next probe tries, alternating
  // A unit far slower than the recent ones brought the next probe (of fewer threads) forward: it
  // runs even if another AdaptiveThreads lost one of that count lately.
  bool load_changed_ = false;
  int64_t probe_units_ = 0;
};

}  // namespace mmx
