// `mmx`: the command-line front end. Subcommands register themselves (command_registry.hpp);
// this file only parses, dispatches and turns errors into one clear line and a non-zero exit.
#include <cstdio>
#include <exception>

#include "cli/command_registry.hpp"
#include "engine/error.hpp"

int main(int argc, char** argv) {
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
