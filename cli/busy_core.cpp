#include "cli/busy_core.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>

#include "engine/error.hpp"

namespace mmx::cli {

BusyCore::BusyCore() {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  MMX_CHECK(pid >= 0, "bench --busy-core: cannot fork the busy-loop process");
  if (pid == 0) {
    // Killed when the parent dies, even by SIGKILL; the parent may have died before this line.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(0);
    volatile uint64_t counter = 0;  // volatile: the loop is not optimised away
    for (;;) counter = counter + 1;
  }
  pid_ = pid;
}

BusyCore::~BusyCore() {
  stop();
}

double BusyCore::stop() {
  if (pid_ < 0) return 0;
  kill(pid_, SIGKILL);
  int status = 0;
  rusage usage{};
  wait4(pid_, &status, 0, &usage);
  pid_ = -1;
  return static_cast<double>(usage.ru_utime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec);
}

}  // namespace mmx::cli
