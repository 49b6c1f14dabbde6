// The engine's matmul (tensor in, tensor out, primitive cache, NoGrad) against a bare oneDNN
// matmul primitive created once, for square sizes, in one process. The two are timed
// alternately, call by call, so a load change on the machine hits both alike.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "bench/bare_matmul.hpp"
#include "bench/kernel_bench.hpp"
#include "engine/autograd/no_grad.hpp"
#include "engine/ops.hpp"
#include "engine/random.hpp"

namespace mmx::bench {

namespace {

template <typename F>
double time_ms(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

void run_matmul_overhead(const KernelBenchOptions& opt) {
  NoGrad no_grad;
  Generator gen(1);
  if (!opt.json)
    std::printf("matmul [n,n]x[n,n], f32, %d threads, median of %d\n%6s %11s %9s %11s %9s %9s\n",
                omp_get_max_threads(), opt.repeats, "n", "engine ms", "GFLOP/s", "oneDNN ms",
                "GFLOP/s", "overhead");
  for (int64_t n : {64, 128, 256, 512, 1024}) {
    const Tensor a = Tensor::randn({n, n}, gen), b = Tensor::randn({n, n}, gen);
    BareMatmul bare(n, n, n);
    for (int w = 0; w < 3; ++w) {  // warm-up: primitive creation, caches, page faults
      (void)matmul(a, b);
      bare.run();
    }
    std::vector<double> engine_ms, bare_ms;
    for (int r = 0; r < opt.repeats; ++r) {
      engine_ms.push_back(time_ms([&] { (void)matmul(a, b); }));
      bare_ms.push_back(time_ms([&] { bare.run(); }));
    }
    const double e = median(engine_ms), o = median(bare_ms);
    const double gflop =
        2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) * 1e-9;
    const double overhead = 100.0 * (e - o) / o;
    if (opt.json) {
      const nlohmann::json row = {{"suite", "matmul"},
                                  {"n", n},
                                  {"threads", omp_get_max_threads()},
                                  {"repeats", opt.repeats},
                                  {"engine_ms", e},
                                  {"engine_gflops", gflop / (e * 1e-3)},
                                  {"onednn_ms", o},
                                  {"onednn_gflops", gflop / (o * 1e-3)},
                                  {"overhead_pct", overhead}};
      std::printf("%s\n", row.dump().c_str());
    } else {
      std::printf("%6lld %11.4f %9.1f %11.4f %9.1f %8.1f%%\n", static_cast<long long>(n), e,
                  gflop / (e * 1e-3), o, gflop / (o * 1e-3), overhead);
    }
  }
}

}  // namespace mmx::bench
