// --threads for every command that computes: how many OpenMP threads to use (0: chosen from the
// load, up to one per core; see engine/thread_count.hpp). Its own header so a command can set
// threads without pulling in the training flags.
#pragma once

#include "engine/thread_count.hpp"

namespace mmx::cli {

inline void apply_threads(int threads) {
  set_thread_count(threads);
}

}  // namespace mmx::cli
