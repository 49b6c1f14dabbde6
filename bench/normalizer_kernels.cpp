// The normalizer kernels, forward + backward, on the same 16384 x 256 scores: fused MultiMax
// against oneDNN's softmax (the ratio target), then the peers. Raw kernels, no tape: the
// same normalizers as ops through the tape are `mmx bench normalizers`. Each repeat times every
// entry in turn, so a load change on the machine hits all alike; figures are medians.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/kernel_bench.hpp"
#include "engine/kernels/entmax15.hpp"
#include "engine/kernels/evsoftmax.hpp"
#include "engine/kernels/masked_softmax.hpp"
#include "engine/kernels/multimax.hpp"
#include "engine/kernels/softmax.hpp"
#include "engine/kernels/sparsemax.hpp"
#include "engine/random.hpp"

namespace mmx::bench {

namespace {

constexpr int64_t kRows = 16384, kCols = 256;
// The target: fused MultiMax (order 2) forward+backward within this factor of SoftMax's.
constexpr double kTargetRatio = 1.15;

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

// One timed entry: `forward` returns the output that `backward` differentiates.
struct Entry {
  std::string name;
  std::function<Tensor()> forward;
  std::function<void(const Tensor& output)> backward;
  std::vector<double> forward_ms, backward_ms, total_ms;
};

void time_once(Entry& e) {
  const auto start = std::chrono::steady_clock::now();
  const Tensor y = e.forward();
  const double f = elapsed_ms(start);
  const auto mid = std::chrono::steady_clock::now();
  e.backward(y);
  const double b = elapsed_ms(mid);
  e.forward_ms.push_back(f);
  e.backward_ms.push_back(b);
  e.total_ms.push_back(f + b);
}

std::vector<Entry> make_entries(const Tensor& x, const Tensor& g) {
  // Trained-looking parameters so that every branch of the modulation is live (the kernels are
  // branch-free, so the cost does not depend on them).
  const Tensor t = Tensor::from_data({0.3f, 0.2f, 0.05f, 0.02f}, {4});
  const Tensor r = Tensor::from_data({-1.0f, 1.0f, -2.0f, 2.0f}, {4});
  std::vector<Entry> entries;
  entries.push_back({"softmax (oneDNN) kernels",
                     [x] { return kernels::softmax_forward(x); },
                     [g](const Tensor& y) { (void)kernels::softmax_backward(y, g); },
                     {},
                     {},
                     {}});
  for (int order : {2, 1})
    entries.push_back({"multimax order " + std::to_string(order) + " kernels",
                       [x, params = MultiMaxParams{t, r, order}] {
                         return kernels::multimax_forward(x, params, Tensor(), false);
                       },
                       [x, g, params = MultiMaxParams{t, r, order}](const Tensor& y) {
                         (void)kernels::multimax_backward(x, y, g, params, false);
                       },
                       {},
                       {},
                       {}});
  entries.push_back({"softmax_temperature kernels",
                     [x] { return kernels::softmax_temperature_forward(x, 0.5f, Tensor(), false); },
                     [g](const Tensor& y) { (void)kernels::softmax_rows_backward(y, g, 2.0f); },
                     {},
                     {},
                     {}});
  entries.push_back({"sparsemax kernels",
                     [x] { return kernels::sparsemax_forward(x, Tensor(), false); },
                     [g](const Tensor& y) { (void)kernels::sparsemax_backward(y, g); },
                     {},
                     {},
                     {}});
  entries.push_back({"entmax15 kernels",
                     [x] { return kernels::entmax15_forward(x, Tensor(), false); },
                     [g](const Tensor& y) { (void)kernels::entmax15_backward(y, g); },
                     {},
                     {},
                     {}});
  entries.push_back({"evsoftmax kernels",
                     [x] { return kernels::evsoftmax_forward(x, Tensor(), false, false, 0.0f); },
                     [g](const Tensor& y) { (void)kernels::softmax_rows_backward(y, g, 1.0f); },
                     {},
                     {},
                     {}});
  return entries;
}

}  // namespace

void run_normalizer_kernels(const KernelBenchOptions& opt) {
  Generator gen(1);
  const Tensor x = Tensor::randn({kRows, kCols}, gen, 0.0f, 2.0f);
  const Tensor g = Tensor::randn({kRows, kCols}, gen);
  std::vector<Entry> entries = make_entries(x, g);
  for (Entry& e : entries) {  // warm-up: primitive creation, page faults, caches
    for (int w = 0; w < 2; ++w) time_once(e);
    e.forward_ms.clear();
    e.backward_ms.clear();
    e.total_ms.clear();
  }
  for (int rep = 0; rep < opt.repeats; ++rep)
    for (Entry& e : entries) time_once(e);

  const double softmax_kernels = median(entries[0].total_ms);
  if (!opt.json)
    std::printf(
        "normalizers fwd+bwd on [%lld, %lld] f32, %d threads, median of %d\n"
        "%-28s %9s %9s %9s %13s\n",
        static_cast<long long>(kRows), static_cast<long long>(kCols), omp_get_max_threads(),
        opt.repeats, "", "fwd ms", "bwd ms", "total ms", "vs softmax");
  for (const Entry& e : entries) {
    const double total = median(e.total_ms);
    const double ratio = total / softmax_kernels;
    const bool target_row = e.name == "multimax order 2 kernels";
    if (opt.json) {
      nlohmann::json row = {{"suite", "normalizers"},
                            {"name", e.name},
                            {"rows", kRows},
                            {"cols", kCols},
                            {"threads", omp_get_max_threads()},
                            {"repeats", opt.repeats},
                            {"forward_ms", median(e.forward_ms)},
                            {"backward_ms", median(e.backward_ms)},
                            {"total_ms", total},
                            {"ratio_vs_softmax", ratio}};
      if (target_row) {
        row["target_ratio"] = kTargetRatio;
        row["meets_target"] = ratio <= kTargetRatio;
      }
      std::printf("%s\n", row.dump().c_str());
    } else {
      std::printf("%-28s %9.3f %9.3f %9.3f %12.3fx\n", e.name.c_str(), median(e.forward_ms),
                  median(e.backward_ms), total, ratio);
      if (target_row)
        std::printf("%-28s %.3fx vs target %.2fx: %s\n", "  target (fwd+bwd ratio)", ratio,
                    kTargetRatio, ratio <= kTargetRatio ? "MET" : "NOT MET");
    }
  }
}

}  // namespace mmx::bench
