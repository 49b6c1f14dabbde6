// --threads for every command that computes: how many OpenMP threads to use (0: chosen from the
// load, up to one per core; see engine/thread_count.hpp). Its own header so a command can set
// threads without pulling in the training flags.
#pragma once

#include <CLI/CLI.hpp>

#include "engine/thread_count.hpp"

namespace mmx::cli {

/// The --threads flag, one text for every command: what 0 does, and what a bit-exact run needs.
inline CLI::Option* add_threads_option(CLI::App* cmd, int& threads) {
  return cmd
      ->add_option(
          "--threads", threads,
          "OpenMP threads. 0 (default): all cores, fewer while other processes hold "
          "some, chosen by timing each step or token; results can then differ in their "
          "last bits from run to run. Repeating or resuming a run bit for bit needs a fixed N, "
          "the same each time")
      ->check(CLI::Range(0, 1024));
}

inline void apply_threads(int threads) {
  set_thread_count(threads);
}

}  // namespace mmx::cli
