// Each `mmx` subcommand lives in its own file and registers itself here from a static
// initializer, so adding a command touches only its own file.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace mmx::cli {

// Adds a subcommand (options + callback) to the app.
using CommandSetup = std::function<void(CLI::App& app)>;
bool register_command(CommandSetup setup);
void add_registered_commands(CLI::App& app);

// `mmx bench <suite>`: each suite prints a table (or one JSON object per row with --json).
struct BenchOptions {
  int repeats = 20;   // timed repetitions; figures are medians
  int threads = 0;    // 0: physical cores
  bool json = false;
  // Training suites: which model configs and attention functions, and how many steps.
  std::string config = "all";  // tiny | small | all
  std::string attn = "all";    // softmax | multimax | all
  int steps = 10;              // timed training steps; figures are medians
  int warmup = 2;              // untimed steps first
};
using BenchSuite = std::function<void(const BenchOptions&)>;
bool register_bench_suite(const std::string& name, const std::string& description,
                          BenchSuite run);

}  // namespace mmx::cli
