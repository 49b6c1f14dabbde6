#include "engine/thread_count.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>
#include <string>

#include "engine/error.hpp"

namespace mmx {

namespace {

std::atomic<int> fixed_threads{0};

// OpenMP's maximum as configured (OMP_NUM_THREADS, or one per core), read before anything here
// lowers it: once units leave their count in force, omp_get_max_threads() reads a lowered count,
// and a ceiling taken from it would keep every later AdaptiveThreads at or below it.
int configured_max_threads() {
  static const int configured = omp_get_max_threads();
  return configured;
}
// Read at start-up too, so that a caller's own omp_set_num_threads before its first use of this
// file does not become the ceiling.
[[maybe_unused]] const int configured_at_start = configured_max_threads();

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What the AdaptiveThreads of this process have learned, for the ones made after them.
struct Learned {
  // The count the last one switched to (0: none has). A new one starts there: work that decodes
  // many short sequences (a sentence at a time, the bench's rounds) would otherwise run the first
  // units of each at all cores, which on a busy machine cost as much as the rest of a 64-token
  // decode.
  int switched_to = 0;
  // The last probe one lost: its count (0: none), and until when (steady clock) its owner's
  // schedule would not have probed that count again. A new one probes its neighbour after 3
  // units; when a core is held by another process that neighbour is the count that stalls (2
  // threads on 2 cores), and each new decode paid one stalled unit, 10-25 ms against 0.7-1 for a
  // token: 5-12% of a 255-token decode (`mmx bench sample --busy-core`). So a new one waits out
  // the lost probe's schedule too, except for a probe of fewer threads that a unit far slower
  // than the recent ones brought forward (the load grew).
  int lost_threads = 0;
  int64_t lost_until_ns = 0;
};
std::mutex learned_mutex;
Learned learned;

int last_switched_to() {
  const std::lock_guard<std::mutex> lock(learned_mutex);
  return learned.switched_to;
}
void remember_switch(int threads) {
  const std::lock_guard<std::mutex> lock(learned_mutex);
  learned.switched_to = threads;
  if (learned.lost_threads == threads) learned.lost_threads = 0;
}
void remember_lost_probe(int threads, double wait_seconds) {
  const std::lock_guard<std::mutex> lock(learned_mutex);
  learned.lost_threads = threads;
  learned.lost_until_ns = now_ns() + static_cast<int64_t>(wait_seconds * 1e9);
}
void forget_lost_probe() {
  const std::lock_guard<std::mutex> lock(learned_mutex);
  learned.lost_threads = 0;
}
bool lost_lately(int threads) {
  const std::lock_guard<std::mutex> lock(learned_mutex);
  return learned.lost_threads == threads && now_ns() < learned.lost_until_ns;
}

// A probe runs two units: the first at a count not seen before creates that count's oneDNN
// primitives, so the faster of the two is its figure.
constexpr int kProbeUnits = 2;
// The probe's count takes over when its best unit beats the current count's recent median by
// this factor: noise of a few percent does not flip the count back and forth.
constexpr double kSwitchBelow = 0.9;
// A unit this many times slower than the recent ones: at more threads, a probe unit that ends
// its probe at once; at the current count, a sign that the load changed.
constexpr double kSlowUnit = 2.0;
// After a losing probe, the next waits until the probe's extra time is at most this share of
// the units in between (and at least twice as long as the last wait, at most kMaxPeriod units).
constexpr double kProbeCostShare = 0.02;
constexpr int64_t kFirstPeriod = 8, kMaxPeriod = 4096;

}  // namespace

void set_thread_count(int threads) {
  MMX_CHECK(threads >= 0, "threads: expected a count >= 0 (0: chosen as the load allows), got ",
            threads);
  const int configured = configured_max_threads();  // read before the line below lowers it
  fixed_threads = threads;
  omp_set_num_threads(threads > 0 ? threads : configured);
  if (threads == 0) forget_lost_probe();
}

int fixed_thread_count() {
  return fixed_threads;
}

int max_thread_count() {
  const int fixed = fixed_thread_count();
  return fixed > 0 ? fixed : configured_max_threads();
}

FixedThreadCount::FixedThreadCount(int threads)
    : previous_fixed_(fixed_thread_count()), previous_count_(omp_get_max_threads()) {
  MMX_CHECK(threads > 0, "threads: a fixed count must be > 0, got ", threads);
  set_thread_count(threads);
}

FixedThreadCount::~FixedThreadCount() {
  set_thread_count(previous_fixed_);
  omp_set_num_threads(previous_count_);
}

int starting_thread_count(const std::string& loadavg, int max) {
  std::istringstream fields(loadavg);
  double one, five, fifteen;
  int64_t runnable = 0;
  char slash = 0;
  if (!(fields >> one >> five >> fifteen >> runnable >> slash) || slash != '/' || runnable < 1)
    return max;
  const int64_t free_cores = int64_t{max} - (runnable - 1);
  return static_cast<int>(std::clamp<int64_t>(free_cores, 1, max));
}

AdaptiveThreads::AdaptiveThreads() : max_(configured_max_threads()), current_(max_) {
  if (fixed_thread_count() > 0) return;  // its units keep the fixed count
  const int last = last_switched_to();
  if (last >= 1 && last <= max_) {
    current_ = last;
  } else {
    std::ifstream loadavg("/proc/loadavg");
    std::string text;
    std::getline(loadavg, text);
    current_ = starting_thread_count(text, max_);
  }
}

AdaptiveThreads::Unit::Unit(AdaptiveThreads& owner) : owner_(owner), start_ns_(now_ns()) {
  if (fixed_thread_count() > 0) return;
  owner_.unit_threads_ = owner_.next_unit_threads();
  omp_set_num_threads(owner_.unit_threads_);
}

AdaptiveThreads::Unit::~Unit() {
  if (fixed_thread_count() > 0) return;
  owner_.record(static_cast<double>(now_ns() - start_ns_) * 1e-9);
  omp_set_num_threads(owner_.current_);
}

int AdaptiveThreads::next_unit_threads() {
  const bool recent_known = recent_count_ == static_cast<int>(recent_.size());
  if (probe_threads_ == 0 && until_probe_ <= 0 && recent_known && max_ > 1) {
    int candidate = probe_down_ ? current_ - 1 : current_ + 1;
    if (candidate < 1 || candidate > max_) candidate = probe_down_ ? current_ + 1 : current_ - 1;
    probe_down_ = !probe_down_;
    if (!load_changed_ && lost_lately(candidate)) {
      until_probe_ = probe_period_;
      return current_;
    }
    load_changed_ = false;
    probe_threads_ = candidate;
    probe_left_ = kProbeUnits;
    probe_best_ = std::numeric_limits<double>::infinity();
    probe_cost_ = 0;
  }
  return probe_threads_ != 0 ? probe_threads_ : current_;
}

double AdaptiveThreads::recent_seconds() const {
  const double a = recent_[0], b = recent_[1], c = recent_[2];
  if (recent_count_ == 1) return a;
  if (recent_count_ == 2) return std::max(a, b);  // the upper median, as the benches report
  return std::max(std::min(a, b), std::min(std::max(a, b), c));
}

void AdaptiveThreads::push_recent(double seconds) {
  recent_[static_cast<size_t>(recent_next_)] = seconds;
  recent_next_ = (recent_next_ + 1) % static_cast<int>(recent_.size());
  recent_count_ = std::min(recent_count_ + 1, static_cast<int>(recent_.size()));
}

void AdaptiveThreads::record(double seconds) {
  if (unit_threads_ == current_) {
    if (recent_count_ == static_cast<int>(recent_.size()) &&
        seconds > kSlowUnit * recent_seconds()) {
      // More load, or a preemption, which on a loaded machine comes every few units: measure
      // the current count afresh. Fewer threads may now be faster, so a probe of one fewer comes
      // soon; more threads do not help against more load, so a probe upwards keeps its schedule
      // (brought forward too, a slow 2-thread probe followed every preemption of one thread).
      recent_count_ = recent_next_ = 0;
      if (current_ > 1) {
        until_probe_ = static_cast<int64_t>(recent_.size());
        probe_down_ = true;
        load_changed_ = true;
      }
    }
    push_recent(seconds);
    --until_probe_;
    return;
  }
  ++probe_units_;
  const double reference = recent_seconds();
  probe_best_ = std::min(probe_best_, seconds);
  probe_cost_ += std::max(0.0, seconds - reference);
  // A probe of more threads that is already far slower ends at once: that is the count a busy
  // core stalls, and its units can cost many times the usual. A probe of fewer threads always
  // runs both units: the first at a new count creates its primitives.
  const bool stalled = probe_threads_ > current_ && seconds > kSlowUnit * reference;
  if (--probe_left_ > 0 && !stalled) return;
  if (probe_best_ < kSwitchBelow * reference) {
    current_ = probe_threads_;
    remember_switch(current_);
    recent_count_ = recent_next_ = 0;
    push_recent(probe_best_);
    probe_period_ = kFirstPeriod;
  } else {
    const auto pays_off = static_cast<int64_t>(probe_cost_ / reference / kProbeCostShare);
    probe_period_ = std::min(kMaxPeriod, std::max(2 * probe_period_, pays_off));
    remember_lost_probe(probe_threads_, static_cast<double>(probe_period_) * reference);
  }
  until_probe_ = probe_period_;
  probe_threads_ = 0;
}

}  // namespace mmx
