/// \file
/// parallel_region: an OpenMP team opened only when it will have more than one thread; and
/// shared_team: one team that a chain of small kernels runs on, one barrier between them
/// instead of a team each.
#pragma once

#include <omp.h>

#include <exception>

namespace mmx {

namespace detail {
// True on the threads of a shared_team while its body runs.
inline thread_local bool in_shared_team = false;
}  // namespace detail

/// Runs `region` once per thread of a new OpenMP team when `worth_threads` (enough work to pay
/// for waking the threads) and more than one thread may run; otherwise calls it once on this
/// thread, where its `#pragma omp for` loops (orphaned, bound to no team) run every iteration.
/// Within a shared_team's body it runs `region` on that team's threads instead, whatever
/// `worth_threads` says: its loops split among them and end at a barrier.
///
/// Why not `#pragma omp parallel if (worth_threads)`: libgomp opens a region even when its `if`
/// is false or its team is one thread, and ends it with a futex wake, a system call. That cost
/// ~1.5 us per region on this project's VMs (measured), where a small op takes a few: about 30
/// regions a token were a tenth of one-thread decoding. Inside a region already (a kernel
/// called per beam from a parallel loop) a nested one is opened as before, so that the loops in
/// `region` bind to it and not to the outer team.
template <class Region>
void parallel_region(bool worth_threads, const Region& region) {
  if (detail::in_shared_team) {
    region();
  } else if (omp_in_parallel() || (worth_threads && omp_get_max_threads() > 1)) {
#pragma omp parallel if (worth_threads)
    region();
  } else {
    region();
  }
}

/// Runs `body` on every thread of one team (or on this thread alone when only one may run),
/// for a chain of kernels too small each to pay for a team of its own, such as one decoded
/// token's ~30 products and attentions: the kernels' parallel_region loops split among the
/// team's threads, and the work of one thread goes through one_thread. A barrier within a team
/// costs ~2.2 us on these VMs, opening a team and closing it ~5.5 (a harness of 20000 of each,
/// 2 threads). Not within another parallel region: there it calls `body` once, as before.
///
/// An exception `body` throws is rethrown here, after the team has closed. The threads must
/// throw alike (from checks every thread makes, outside one_thread), or one would wait at a
/// barrier for the others forever.
template <class Body>
void shared_team(const Body& body) {
  if (omp_in_parallel() || omp_get_max_threads() == 1) {
    body();
    return;
  }
  std::exception_ptr thrown;
#pragma omp parallel
  {
    detail::in_shared_team = true;
    try {
      body();
    } catch (...) {
#pragma omp critical(mmx_shared_team)
      if (!thrown) thrown = std::current_exception();
    }
    detail::in_shared_team = false;
  }
  if (thrown) std::rethrow_exception(thrown);
}

/// Runs `work` once: on one thread of a shared_team, the others waiting at its end, so that
/// what it writes is there for the next kernel; elsewhere simply on this thread.
template <class Work>
void one_thread(const Work& work) {
  if (!detail::in_shared_team) {
    work();
    return;
  }
#pragma omp single
  work();
}

}  // namespace mmx
