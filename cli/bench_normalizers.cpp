// `mmx bench normalizers`: every normalizer of the table, forward+backward on the same
// 16384 x 256 scores against SoftMax, each as an op through the tape, as attention runs them. The
// raw kernels, and MultiMax's ratio target against oneDNN's softmax, are bench/'s
// `mmx_bench_kernels normalizers`. Each repeat times every entry in turn, so a load change on the
// machine hits all alike; figures are medians of forward+backward.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/bench_support.hpp"
#include "cli/command_registry.hpp"
#include "engine/normalizers.hpp"
#include "engine/ops.hpp"
#include "nn/layers/normalizers.hpp"

namespace mmx::cli {

namespace {

constexpr int64_t kRows = 16384, kCols = 256;

using bench::median;

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

// One timed entry: `forward` returns the output that `backward` differentiates.
struct Entry {
  std::string name;
  std::function<Tensor()> forward;
  std::vector<double> forward_ms, backward_ms, total_ms;
};

// A row per normalizer of the table (nn/layers/normalizers.hpp), as attention applies it, SoftMax
// first (the ratios' base); then MultiMax of order 1 and SoftMax at a temperature other than 1.
std::vector<Entry> make_entries(const Tensor& x, const Tensor& t, const Tensor& r) {
  std::vector<Entry> entries;
  const auto add = [&](const std::string& name, const nn::Normalizer& row, int order,
                       float temperature) {
    entries.push_back({name + " op + tape",
                       [x, t, r, &row, order, temperature] {
                         const MultiMaxParams params{t, r, order};
                         return row.apply(x, {.mask = Tensor(),
                                              .causal = false,
                                              .multimax = &params,
                                              .training = false,
                                              .temperature = temperature});
                       },
                       {},
                       {},
                       {}});
  };
  for (const nn::Normalizer& row : nn::normalizers()) add(row.name, row, 2, 1.0f);
  add("multimax order 1", nn::normalizer(nn::AttentionKind::MultiMax), 1, 1.0f);
  for (const nn::Normalizer& row : nn::normalizers())
    if (row.has_temperature) add(std::string(row.name) + " T=0.5", row, 2, 0.5f);
  return entries;
}

void run_normalizers_bench(const BenchOptions& opt) {
  Generator gen(1);
  const Tensor x = Tensor::randn({kRows, kCols}, gen, 0.0f, 2.0f).requires_grad_();
  const Tensor g = Tensor::randn({kRows, kCols}, gen);
  // Trained-looking parameters so that every branch of the modulation is live (the kernels are
  // branch-free, so the cost does not depend on them).
  const Tensor t = Tensor::from_data({0.3f, 0.2f, 0.05f, 0.02f}, {4}).requires_grad_();
  const Tensor r = Tensor::from_data({-1.0f, 1.0f, -2.0f, 2.0f}, {4}).requires_grad_();
  const auto time_once = [&](Entry& e) {
    const auto start = std::chrono::steady_clock::now();
    const Tensor y = e.forward();
    const double f = elapsed_ms(start);
    const auto mid = std::chrono::steady_clock::now();
    y.backward(g);
    for (Tensor leaf : {x, t, r}) leaf.zero_grad();
    const double b = elapsed_ms(mid);
    e.forward_ms.push_back(f);
    e.backward_ms.push_back(b);
    e.total_ms.push_back(f + b);
  };
  std::vector<Entry> entries = make_entries(x, t, r);
  for (Entry& e : entries) {  // warm-up: primitive creation, page faults, caches
    for (int w = 0; w < 2; ++w) time_once(e);
    e.forward_ms.clear();
    e.backward_ms.clear();
    e.total_ms.clear();
  }
  for (int rep = 0; rep < opt.repeats; ++rep)
    for (Entry& e : entries) time_once(e);

  const double softmax_op = median(entries[0].total_ms);
  if (!opt.json)
    std::printf(
        "normalizers fwd+bwd on [%lld, %lld] f32, %d threads, median of %d\n"
        "%-30s %9s %9s %9s %13s\n",
        static_cast<long long>(kRows), static_cast<long long>(kCols), omp_get_max_threads(),
        opt.repeats, "", "fwd ms", "bwd ms", "total ms", "vs softmax");
  for (const Entry& e : entries) {
    const double total = median(e.total_ms);
    const double ratio = total / softmax_op;
    if (opt.json) {
      const nlohmann::json row = {{"suite", "normalizers"},
                                  {"name", e.name},
                                  {"rows", kRows},
                                  {"cols", kCols},
                                  {"threads", omp_get_max_threads()},
                                  {"repeats", opt.repeats},
                                  {"forward_ms", median(e.forward_ms)},
                                  {"backward_ms", median(e.backward_ms)},
                                  {"total_ms", total},
                                  {"ratio_vs_softmax", ratio}};
      std::printf("%s\n", row.dump().c_str());
    } else {
      std::printf("%-30s %9.3f %9.3f %9.3f %12.3fx\n", e.name.c_str(), median(e.forward_ms),
                  median(e.backward_ms), total, ratio);
    }
  }
}

const bool registered = register_bench_suite(
    "normalizers",
    "every normalizer's fwd+bwd vs SoftMax on 16384x256 scores, as ops through the tape, as "
    "attention runs them (kernels: mmx_bench_kernels)",
    run_normalizers_bench);

}  // namespace

}  // namespace mmx::cli
