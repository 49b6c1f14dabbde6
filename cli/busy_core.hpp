// `mmx bench --busy-core`: another process holding a core while the benchmarks run, to measure
// what a busy machine costs (docs/performance.md, "Threads"). A forked child spins on a counter
// until the bench ends; it dies with its parent, whichever way the parent ends (an error,
// Ctrl-C, a kill), and is reaped, so no process is left behind.
#pragma once

#include <sys/types.h>

namespace mmx::cli {

class BusyCore {
 public:
  BusyCore();   // forks the spinning child; an mmx::Error if it cannot
  ~BusyCore();  // kills the child and waits for it
  BusyCore(const BusyCore&) = delete;
  BusyCore& operator=(const BusyCore&) = delete;
  pid_t pid() const { return pid_; }
  // Ends the child now; returns the CPU seconds it spun for (what it took from the bench).
  double stop();

 private:
  pid_t pid_ = -1;
};

}  // namespace mmx::cli
