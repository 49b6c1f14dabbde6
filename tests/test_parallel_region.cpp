// parallel_region (engine/parallel_region.hpp): a team only when it is worth it and can have
// more than one thread; otherwise the region runs once on the calling thread, its `omp for`
// loops covering every iteration; and called from inside a parallel loop, each caller still
// runs all of its own iterations (its loops do not split across the outer team). shared_team:
// one team for a chain of kernels, their loops split among its threads whatever they judge
// worth it, one_thread's work done once, and an exception rethrown after the team.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <vector>

#include "engine/parallel_region.hpp"

using mmx::one_thread;
using mmx::parallel_region;
using mmx::shared_team;

namespace {

// Runs an `omp for` over `n` iterations inside parallel_region(worth) and returns how many
// times each iteration ran; `calls` counts the region's bodies, `in_team` those inside a region
// it opened (omp_get_level counts regions of one thread too, which omp_in_parallel does not).
std::vector<int> count_iterations(bool worth, int n, std::atomic<int>& calls,
                                  std::atomic<int>& in_team) {
  std::vector<int> ran(static_cast<size_t>(n), 0);
  const int level = omp_get_level();
  parallel_region(worth, [&] {
    ++calls;
    if (omp_get_level() > level) ++in_team;
#pragma omp for schedule(static)
    for (int i = 0; i < n; ++i) ++ran[static_cast<size_t>(i)];
  });
  return ran;
}

}  // namespace

TEST_CASE("a team only for work worth one and more than one thread; each iteration once") {
  struct Row {
    int threads;
    bool worth;
    int calls, in_team;  // bodies run, and those in a team parallel_region opened
  };
  const Row rows[] = {{1, false, 1, 0}, {1, true, 1, 0}, {2, false, 1, 0}, {2, true, 2, 2}};
  for (const Row& row : rows) {
    CAPTURE(row.threads);
    CAPTURE(row.worth);
    omp_set_num_threads(row.threads);
    std::atomic<int> calls = 0, in_team = 0;
    const std::vector<int> ran = count_iterations(row.worth, 100, calls, in_team);
    CHECK(calls == row.calls);
    CHECK(in_team == row.in_team);
    CHECK(std::count(ran.begin(), ran.end(), 1) == 100);
  }
}

TEST_CASE("inside a parallel loop, each caller runs all of its own iterations") {
  omp_set_num_threads(2);
  std::vector<std::vector<int>> per_caller(2);
#pragma omp parallel for schedule(static) num_threads(2)
  for (int caller = 0; caller < 2; ++caller) {
    std::atomic<int> calls = 0, in_team = 0;
    per_caller[static_cast<size_t>(caller)] = count_iterations(false, 100, calls, in_team);
  }
  for (const std::vector<int>& ran : per_caller)
    CHECK(std::count(ran.begin(), ran.end(), 1) == 100);
}

TEST_CASE("a shared team: the kernels' loops split among its threads, one_thread's work once") {
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    omp_set_num_threads(threads);
    std::atomic<int> bodies = 0, calls = 0, in_team = 0, singles = 0;
    std::vector<int> ran_small, ran_large, chained(100, 0), sums(2, 0);
    const int level = omp_get_level();
    shared_team([&] {
      ++bodies;
      // A kernel, then one_thread's writes that every thread reads next: the barrier at
      // one_thread's end orders them.
      std::vector<int> small = count_iterations(false, 100, calls, in_team);
      one_thread([&] {
        ++singles;
        for (int i = 0; i < 100; ++i) chained[static_cast<size_t>(i)] = i;
      });
      for (int v : chained) sums[static_cast<size_t>(omp_get_thread_num())] += v;
      std::vector<int> large = count_iterations(true, 100, calls, in_team);
      one_thread([&] {
        ran_small = small;  // each thread's own counts: only its share of the iterations
        ran_large = large;
      });
    });
    CHECK(bodies == threads);
    CHECK(calls == 2 * threads);
    CHECK(in_team == 0);  // the kernels opened no team: they ran on the shared one
    CHECK(singles == 1);
    for (int t = 0; t < threads; ++t) CHECK(sums[static_cast<size_t>(t)] == 4950);  // all see it
    CHECK(omp_get_level() == level);
    // One thread's counts: all 100 iterations alone, or its static half of them in a team of 2.
    CHECK(std::count(ran_small.begin(), ran_small.end(), 1) == 100 / threads);
    CHECK(std::count(ran_large.begin(), ran_large.end(), 1) == 100 / threads);
  }
  omp_set_num_threads(2);
}

TEST_CASE("an exception in a shared team comes out of it, after the team") {
  omp_set_num_threads(2);
  CHECK_THROWS_WITH_AS(shared_team([] { throw std::runtime_error("bad shape"); }), "bad shape",
                       std::runtime_error);
  // The team closed cleanly: the next one runs.
  std::atomic<int> bodies = 0;
  shared_team([&] { ++bodies; });
  CHECK(bodies == 2);
}
