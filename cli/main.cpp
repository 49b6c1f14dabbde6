// `mmx`: the command-line front end. Subcommands register themselves (command_registry.hpp);
// this file only parses, dispatches and turns errors into one clear line and a non-zero exit.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "cli/command_registry.hpp"
#include "engine/error.hpp"

// OpenMP threads that spin while waiting hold on to their core; on a machine shared with other
// work, every parallel region then waits for a descheduled partner and a step got 5-9x slower
// (docs/performance.md). Passive waiting avoids that collapse. libgomp reads the policy when it
// loads, before main, so the only way to set it is to re-execute ourselves with it set. An
// explicit OMP_WAIT_POLICY in the environment is respected.
void default_to_passive_openmp_waiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then run with the default policy
}

int main(int argc, char** argv) {
  default_to_passive_openmp_waiting(argv);
  CLI::App app{"multimax: MultiMax attention, its peers, and tiny transformers on a CPU", "mmx"};
  app.set_version_flag("--version", "mmx " MMX_VERSION);
  app.require_subcommand(1);
  mmx::cli::add_registered_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const mmx::Error& e) {
    std::fprintf(stderr, "mmx: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mmx: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
