// What the suites of mmx_bench_kernels share: their options and the median they report.
#pragma once

#include <vector>

namespace mmx::bench {

struct KernelBenchOptions {
  int repeats = 20;   // timed repetitions; figures are medians
  bool json = false;  // one JSON object per row instead of a table
};

// The true median (mean of the two middle values for an even count).
double median(std::vector<double> values);

// The suites: normalizer_kernels.cpp, matmul_overhead.cpp, gemv_kernels.cpp,
// attention_kernels.cpp.
void run_normalizer_kernels(const KernelBenchOptions& opt);
void run_matmul_overhead(const KernelBenchOptions& opt);
void run_gemv(const KernelBenchOptions& opt);
void run_attention_kernels(const KernelBenchOptions& opt);

}  // namespace mmx::bench
