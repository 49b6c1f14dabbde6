// --threads for every command that computes: how many OpenMP threads to use (0: one per core).
// Its own header so a command can set threads without pulling in the training flags.
#pragma once

#include <omp.h>

namespace mmx::cli {

inline void apply_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
}

}  // namespace mmx::cli
