// mmx_bench_kernels: the benchmarks that measure below the ops, so `mmx bench` (which measures
// through the public ops) cannot hold them: the normalizer kernels against oneDNN's softmax, and
// the engine's matmul against a bare oneDNN primitive, the one-row gemv against oneDNN, the
// fused causal attention with SoftMax against MultiMax.
//   mmx_bench_kernels [normalizers] [matmul] [gemv] [attention] [--repeats N] [--threads N]
//   [--json]
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bench/kernel_bench.hpp"

namespace mmx::bench {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace mmx::bench

int main(int argc, char** argv) {
  using mmx::bench::KernelBenchOptions;
  const std::map<std::string, std::function<void(const KernelBenchOptions&)>> suites = {
      {"normalizers", mmx::bench::run_normalizer_kernels},
      {"matmul", mmx::bench::run_matmul_overhead},
      {"gemv", mmx::bench::run_gemv},
      {"attention", mmx::bench::run_attention_kernels}};
  CLI::App app(
      "Kernel benchmarks: the normalizer kernels against oneDNN's softmax (16384 x 256 "
      "scores), the engine's matmul against a bare oneDNN primitive (square 64..1024), the "
      "one-row gemv against oneDNN's one-row matmul (the small config's layers), the fused causal "
      "attention with SoftMax against MultiMax");
  std::vector<std::string> names;
  KernelBenchOptions opt;
  int threads = 0;
  app.add_option("suites", names,
                 "Suites to run (default: all): normalizers, matmul, gemv, attention")
      ->check(CLI::IsMember({"normalizers", "matmul", "gemv", "attention"}));
  app.add_option("--repeats", opt.repeats, "Timed repetitions per measurement")
      ->check(CLI::Range(1, 100000));
  app.add_option("--threads", threads, "OpenMP threads (0: all cores)")->check(CLI::Range(0, 1024));
  app.add_flag("--json", opt.json, "One JSON object per row instead of a table");
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) omp_set_num_threads(threads);
  if (names.empty())
    for (const auto& [name, suite] : suites) names.push_back(name);
  try {
    for (const std::string& name : names) suites.at(name)(opt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mmx_bench_kernels: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
