// Each `mmx` subcommand lives in its own file and registers itself here from a static
// initializer, so adding a command touches only its own file.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace mmx::cli {

// Adds a subcommand (options + callback) to the app.
using CommandSetup = std::function<void(CLI::App& app)>;
bool register_command(CommandSetup setup);
void add_registered_commands(CLI::App& app);

// `mmx bench <suite>`: each suite prints a table (or one JSON object per row with --json).
struct BenchOptions {
  int repeats = 20;        // timed repetitions; figures are medians
  int threads = 0;         // 0: chosen from the load, up to one per core (engine/thread_count.hpp)
  bool busy_core = false;  // a spinning child process holds a core while the suites run
  bool json = false;
  // Training suites: which model configs and attention functions, and how many steps.
  std::string config = "all";  // tiny | small | all
  std::string attn = "all";    // softmax | multimax | all
  int steps = 10;              // timed training steps; figures are medians
  int warmup = 2;              // untimed steps first
  // train: side of the square sgemm timed in the same process for MFU (0: skip it).
  int64_t sgemm_n = 2048;
  // train: the matmuls' operand precision, "fp32" | "bf16" (engine/precision.hpp).
  std::string precision = "fp32";
  // train: also print where a step goes, op by op (autograd::start_op_profile).
  bool profile = false;
  // scaling: the grid of context lengths and model widths, one fresh process per cell.
  std::vector<int64_t> seqs = {64, 128, 256, 512};
  std::vector<int64_t> d_models = {128, 256, 384};
  // sample: tokens generated per round (0: seq_len - 1, the most that fit without a
  // re-fill) and the rounds, cached and uncached alternating.
  int64_t sample_tokens = 0;
  int rounds = 3;
};
using BenchSuite = std::function<void(const BenchOptions&)>;
bool register_bench_suite(const std::string& name, const std::string& description, BenchSuite run);

}  // namespace mmx::cli
