/// \file
/// parallel_region: an OpenMP team opened only when it will have more than one thread.
#pragma once

#include <omp.h>

namespace mmx {

/// Runs `region` once per thread of a new OpenMP team when `worth_threads` (enough work to pay
/// for waking the threads) and more than one thread may run; otherwise calls it once on this
/// thread, where its `#pragma omp for` loops (orphaned, bound to no team) run every iteration.
///
/// Why not `#pragma omp parallel if (worth_threads)`: libgomp opens a region even when its `if`
/// is false or its team is one thread, and ends it with a futex wake, a system call. That cost
/// ~1.5 us per region on this project's VMs (measured), where a small op takes a few: about 30
/// regions a token were a tenth of one-thread decoding. Inside a region already (a kernel
/// called per beam from a parallel loop) a nested one is opened as before, so that the loops in
/// `region` bind to it and not to the outer team.
template <class Region>
void parallel_region(bool worth_threads, const Region& region) {
  if (omp_in_parallel() || (worth_threads && omp_get_max_threads() > 1)) {
#pragma omp parallel if (worth_threads)
    region();
  } else {
    region();
  }
}

}  // namespace mmx
