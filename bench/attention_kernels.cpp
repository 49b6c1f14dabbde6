// The fused causal self-attention (engine/kernels/causal_attention.hpp), forward and backward,
// SoftMax against MultiMax (order 2, one set per layer) at the reference configs' shapes: where
// MultiMax's training-step cost over SoftMax (`mmx bench overhead`) comes from, measured without
// the rest of the step. Each repeat runs SoftMax and MultiMax in turn; figures are medians.
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/kernel_bench.hpp"
#include "engine/kernels/causal_attention.hpp"
#include "engine/random.hpp"

namespace mmx::bench {

namespace {

// [batch, heads, T, head dim] of the reference configs (cli/bench_support.cpp).
struct AttentionShape {
  const char* config;
  int64_t batch, heads, seq, head_dim;
};
constexpr AttentionShape kShapes[] = {{"tiny", 16, 4, 128, 32}, {"small", 8, 8, 256, 32}};

double ms_since(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

struct Timings {
  std::vector<double> forward_ms, backward_ms;
};

void time_once(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& gy, float scale,
               const MultiMaxParams* multimax, Timings& into) {
  const auto start = std::chrono::steady_clock::now();
  const kernels::CausalAttention saved =
      kernels::causal_attention_forward(q, k, v, scale, multimax);
  into.forward_ms.push_back(ms_since(start));
  const auto mid = std::chrono::steady_clock::now();
  (void)kernels::causal_attention_backward(q, k, v, saved, gy, scale, multimax);
  into.backward_ms.push_back(ms_since(mid));
}

}  // namespace

void run_attention_kernels(const KernelBenchOptions& opt) {
  if (!opt.json)
    std::printf(
        "fused causal attention fwd / bwd, %d threads, median of %d (ms); mm/sm: median of the\n"
        "repeats' ratios (SoftMax and MultiMax run in turn)\n"
        "%-7s %-22s %9s %9s %9s %9s %9s %9s %8s\n",
        omp_get_max_threads(), opt.repeats, "config", "[B, H, T, d]", "sm fwd", "sm bwd", "mm fwd",
        "mm bwd", "sm", "mm", "mm/sm");
  for (const AttentionShape& s : kShapes) {
    Generator gen(1);
    const Shape shape = {s.batch, s.heads, s.seq, s.head_dim};
    const Tensor q = Tensor::randn(shape, gen), k = Tensor::randn(shape, gen),
                 v = Tensor::randn(shape, gen), gy = Tensor::randn(shape, gen);
    // Trained-looking parameters: every branch of the modulation live.
    const MultiMaxParams multimax{Tensor::from_data({0.3f, 0.2f, 0.05f, 0.02f}, {4}),
                                  Tensor::from_data({-1.0f, 1.0f, -2.0f, 2.0f}, {4}), 2};
    const float scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
    Timings softmax, modulated, warm;
    for (int w = 0; w < 2; ++w) {  // page faults, caches
      time_once(q, k, v, gy, scale, nullptr, warm);
      time_once(q, k, v, gy, scale, &multimax, warm);
    }
    for (int rep = 0; rep < opt.repeats; ++rep) {
      time_once(q, k, v, gy, scale, nullptr, softmax);
      time_once(q, k, v, gy, scale, &multimax, modulated);
    }
    const double sm_f = median(softmax.forward_ms), sm_b = median(softmax.backward_ms);
    const double mm_f = median(modulated.forward_ms), mm_b = median(modulated.backward_ms);
    // The ratio of each repeat's pair, then their median: a change of the machine's load hits
    // both of a pair alike.
    std::vector<double> ratios;
    for (size_t i = 0; i < softmax.forward_ms.size(); ++i)
      ratios.push_back((modulated.forward_ms[i] + modulated.backward_ms[i]) /
                       (softmax.forward_ms[i] + softmax.backward_ms[i]));
    const double ratio = median(ratios);
    const std::string dims = to_string(shape);
    if (opt.json) {
      const nlohmann::json row = {{"suite", "attention"},
                                  {"config", s.config},
                                  {"shape", {s.batch, s.heads, s.seq, s.head_dim}},
                                  {"threads", omp_get_max_threads()},
                                  {"repeats", opt.repeats},
                                  {"softmax_forward_ms", sm_f},
                                  {"softmax_backward_ms", sm_b},
                                  {"multimax_forward_ms", mm_f},
                                  {"multimax_backward_ms", mm_b},
                                  {"multimax_over_softmax", ratio}};
      std::printf("%s\n", row.dump().c_str());
    } else {
      std::printf("%-7s %-22s %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %7.3fx\n", s.config, dims.c_str(),
                  sm_f, sm_b, mm_f, mm_b, sm_f + sm_b, mm_f + mm_b, (mm_f + mm_b) / (sm_f + sm_b));
    }
  }
}

}  // namespace mmx::bench
