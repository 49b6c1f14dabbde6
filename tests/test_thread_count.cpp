// The thread count of repeated work (engine/thread_count.hpp): a fixed count is kept as given;
// an adaptive one stays between 1 and OpenMP's configured maximum, probes a neighbouring count now
// and then, and leaves OpenMP's count at the one it chose between units. What it picks for real
// work depends on the machine's load, so no test here says which count wins for a matmul; the
// tests that need a lowered count make one count's units sleep, so the work decides, not the load.
#include <doctest/doctest.h>
#include <omp.h>

#include <chrono>
#include <thread>

#include "engine/error.hpp"
#include "engine/ops.hpp"
#include "engine/random.hpp"
#include "engine/thread_count.hpp"

namespace {

// A small matmul, as a unit of work that opens parallel regions and creates oneDNN primitives.
void some_work() {
  mmx::Generator gen(0);
  const mmx::Tensor a = mmx::Tensor::randn({64, 64}, gen);
  (void)mmx::matmul(a, a);
}

// One unit of `threads` whose time depends only on its count: at any count but `fast_at` it
// sleeps 30 ms, at `fast_at` `fast_ms` (at once by default), so a probe of `fast_at` wins by far
// and a probe away from it loses by far, even on a busy machine (a probe needs its faster unit
// under 90% of the current count's median). After the unit, OpenMP's count must be the one the
// owner now runs at: its current count, not a probe's, not the maximum.
void unit_fast_at(mmx::AdaptiveThreads& threads, int fast_at, int fast_ms = 0) {
  {
    const mmx::AdaptiveThreads::Unit unit(threads);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(omp_get_max_threads() == fast_at ? fast_ms : 30));
  }
  CHECK(omp_get_max_threads() == threads.threads());
}

// Runs such units until `threads` has switched to `target` (at least one unit). A lost probe is
// retried; 300 units leave room for five.
void run_until_switched_to(mmx::AdaptiveThreads& threads, int target) {
  int units = 0;
  do unit_fast_at(threads, target);
  while (++units < 300 && threads.threads() != target);
  REQUIRE(threads.threads() == target);
}

}  // namespace

TEST_CASE("a fixed thread count is what every unit runs at, until the guard ends") {
  const int before = omp_get_max_threads();
  REQUIRE(mmx::fixed_thread_count() == 0);
  {
    const mmx::FixedThreadCount fixed(1);
    CHECK(mmx::fixed_thread_count() == 1);
    CHECK(mmx::max_thread_count() == 1);
    mmx::AdaptiveThreads threads;
    for (int i = 0; i < 40; ++i) {
      const mmx::AdaptiveThreads::Unit unit(threads);
      CHECK(omp_get_max_threads() == 1);
      some_work();
    }
    CHECK(threads.probe_units() == 0);
  }
  CHECK(mmx::fixed_thread_count() == 0);
  CHECK(omp_get_max_threads() == before);
}

TEST_CASE("an adaptive count stays in [1, max], probes, and is OpenMP's count between units") {
  mmx::set_thread_count(0);
  const int max = mmx::max_thread_count();
  CHECK(omp_get_max_threads() == max);
  mmx::AdaptiveThreads threads;
  // Where the last one switched to, or the maximum.
  CHECK(threads.threads() >= 1);
  CHECK(threads.threads() <= max);
  for (int i = 0; i < 40; ++i) {
    {
      const mmx::AdaptiveThreads::Unit unit(threads);
      CHECK(omp_get_max_threads() >= 1);
      CHECK(omp_get_max_threads() <= max);
      some_work();
    }
    CHECK(omp_get_max_threads() == threads.threads());
    CHECK(threads.threads() >= 1);
    CHECK(threads.threads() <= max);
  }
  // 40 units are enough for the first probe (after 3) whenever there is a count to probe.
  if (max > 1) CHECK(threads.probe_units() >= 1);
}

TEST_CASE("work between units runs at a lowered count; set_thread_count(0) restores the max") {
  mmx::set_thread_count(0);
  const int max = mmx::max_thread_count();
  REQUIRE(omp_get_max_threads() == max);
  if (max < 2) return;  // nothing to lower (ctest runs this with OMP_NUM_THREADS=2)
  mmx::AdaptiveThreads threads;
  run_until_switched_to(threads, max - 1);
  // More units at the lowered count, with probes among them (slow, so they lose): after each,
  // a probe's too, the code between units sees the lowered count.
  const int64_t probes_before = threads.probe_units();
  for (int i = 0; i < 20; ++i) {
    unit_fast_at(threads, max - 1);
    CHECK(omp_get_max_threads() == max - 1);
  }
  CHECK(threads.probe_units() > probes_before);
  // The ceiling is still the configured maximum, whatever OpenMP's count now is.
  CHECK(mmx::max_thread_count() == max);
  {
    // A fixed count is as given, and its guard puts back the lowered count it found.
    const mmx::FixedThreadCount fixed(max);
    CHECK(omp_get_max_threads() == max);
    CHECK(mmx::max_thread_count() == max);
  }
  CHECK(mmx::fixed_thread_count() == 0);
  CHECK(omp_get_max_threads() == max - 1);
  mmx::set_thread_count(max + 1);  // above the configured maximum: fixed counts may be
  CHECK(omp_get_max_threads() == max + 1);
  CHECK(mmx::max_thread_count() == max + 1);
  mmx::set_thread_count(0);  // back to adaptive: from the configured maximum
  CHECK(omp_get_max_threads() == max);
  CHECK(mmx::max_thread_count() == max);
}

TEST_CASE("after a lowered count, a new AdaptiveThreads still probes up to the maximum") {
  mmx::set_thread_count(0);
  const int max = mmx::max_thread_count();
  if (max < 2) return;
  mmx::AdaptiveThreads lowered;
  // Up to the maximum first, so that the step down is a switch it remembers: a new
  // AdaptiveThreads with no switch remembered starts from the cores free at that moment, and
  // under `ctest -j2` another test can take one just then (seen once in CI, under ASan).
  run_until_switched_to(lowered, max);
  run_until_switched_to(lowered, max - 1);
  REQUIRE(omp_get_max_threads() == max - 1);
  mmx::AdaptiveThreads fresh;
  CHECK(fresh.threads() == max - 1);  // starts where the last one switched to
  // Its ceiling is the configured maximum, not the lowered count OpenMP now reports.
  run_until_switched_to(fresh, max);
  CHECK(omp_get_max_threads() == max);
}

TEST_CASE("a count whose probe was lost a moment ago is not probed by a new AdaptiveThreads") {
  mmx::set_thread_count(0);
  const int max = mmx::max_thread_count();
  if (max < 2) return;
  // Units of 1 ms at max - 1 and 30 ms at max: a probe of max stalls and loses, and its owner's
  // schedule waits ~1.5 s before the next (the probe's extra time at most 2% of the units
  // between), far longer than the 20 units below take even on a busy machine.
  mmx::AdaptiveThreads first;
  // Up, then down: whatever count it starts at, it switches to max - 1, which `next` starts at.
  run_until_switched_to(first, max);
  run_until_switched_to(first, max - 1);
  const int64_t probes_at_switch = first.probe_units();
  for (int i = 0; i < 300 && first.probe_units() == probes_at_switch; ++i)
    unit_fast_at(first, max - 1, 1);
  REQUIRE(first.probe_units() > probes_at_switch);  // the lost probe of max
  REQUIRE(first.threads() == max - 1);
  mmx::AdaptiveThreads next;  // as the next decode of a process makes one
  REQUIRE(next.threads() == max - 1);
  for (int i = 0; i < 20; ++i) unit_fast_at(next, max - 1, 1);
  CHECK(next.probe_units() == 0);  // without the lost probe's schedule: a probe after 3 units
  CHECK(next.threads() == max - 1);
}

TEST_CASE("a negative thread count is refused, and a fixed count of 0") {
  CHECK_THROWS_AS(mmx::set_thread_count(-1), mmx::Error);
  CHECK_THROWS_AS(mmx::FixedThreadCount(0), mmx::Error);
  CHECK(mmx::fixed_thread_count() == 0);
}

TEST_CASE("a first AdaptiveThreads starts at the cores the machine's runnable tasks leave") {
  // /proc/loadavg's fourth field counts the runnable tasks, the reader included.
  struct Row {
    const char* loadavg;
    int max, starts_at;
  };
  const Row rows[] = {
      {"0.10 0.20 0.30 1/150 4242\n", 2, 2},  // only the reader: every core
      {"1.00 1.00 1.00 2/150 4242\n", 2, 1},  // one other task: one core left
      {"3.00 2.00 1.00 5/150 4242\n", 2, 1},  // more than the cores: at least 1
      {"1.00 1.00 1.00 2/150 4242\n", 4, 3},
      {"1.00 1.00 1.00 2/150 4242\n", 1, 1},
      {"", 2, 2},  // unreadable or not Linux: the maximum
      {"not a loadavg", 2, 2},
      {"0.1 0.2 0.3 0/150 1", 2, 2},  // no runnable task cannot be: the maximum
  };
  for (const Row& row : rows) {
    INFO("loadavg '" << row.loadavg << "', max " << row.max);
    CHECK(mmx::starting_thread_count(row.loadavg, row.max) == row.starts_at);
  }
}
