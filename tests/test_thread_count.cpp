// The thread count of repeated work (engine/thread_count.hpp): a fixed count is kept as given;
// an adaptive one stays between 1 and OpenMP's maximum, probes a neighbouring count now and
// then, and leaves OpenMP's count at the maximum between units. What it picks depends on the
// machine's load, so no test here says which count wins.
#include <doctest/doctest.h>
#include <omp.h>

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

}  // namespace

TEST_CASE("a fixed thread count is what every unit runs at, until the guard ends") {
  const int max = omp_get_max_threads();
  REQUIRE(mmx::fixed_thread_count() == 0);
  {
    const mmx::FixedThreadCount fixed(1);
    CHECK(mmx::fixed_thread_count() == 1);
    mmx::AdaptiveThreads threads;
    for (int i = 0; i < 40; ++i) {
      const mmx::AdaptiveThreads::Unit unit(threads);
      CHECK(omp_get_max_threads() == 1);
      some_work();
    }
    CHECK(threads.probe_units() == 0);
  }
  CHECK(mmx::fixed_thread_count() == 0);
  CHECK(omp_get_max_threads() == max);
}

TEST_CASE("an adaptive count stays in [1, max], probes, and restores the maximum between units") {
  mmx::set_thread_count(0);
  const int max = omp_get_max_threads();
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
    CHECK(omp_get_max_threads() == max);
    CHECK(threads.threads() >= 1);
    CHECK(threads.threads() <= max);
  }
  // 40 units are enough for the first probe (after 3) whenever there is a count to probe.
  if (max > 1) CHECK(threads.probe_units() >= 1);
}

TEST_CASE("a negative thread count is refused, and a fixed count of 0") {
  CHECK_THROWS_AS(mmx::set_thread_count(-1), mmx::Error);
  CHECK_THROWS_AS(mmx::FixedThreadCount(0), mmx::Error);
  CHECK(mmx::fixed_thread_count() == 0);
}
