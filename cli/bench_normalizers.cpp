// `mmx bench normalizers`: fused MultiMax forward+backward against the engine's SoftMax (oneDNN
// primitives) on the same 16384 x 256 scores, then the peers. Each repeat times every entry in
// turn, so a load change on the machine hits all alike; figures are medians of forward+backward.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/bench_support.hpp"
#include "cli/command_registry.hpp"
#include "engine/autograd/tape.hpp"
#include "engine/kernels/entmax15.hpp"
#include "engine/kernels/evsoftmax.hpp"
#include "engine/kernels/masked_softmax.hpp"
#include "engine/kernels/multimax.hpp"
#include "engine/kernels/softmax.hpp"
#include "engine/kernels/sparsemax.hpp"
#include "engine/normalizers.hpp"
#include "engine/ops.hpp"

namespace mmx::cli {

namespace {

constexpr int64_t kRows = 16384, kCols = 256;
// The target: fused MultiMax (order 2) forward+backward within this factor of SoftMax's.
constexpr double kTargetRatio = 1.15;

using bench::median;

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
  const Tensor t = Tensor::from_data({0.3f, 0.2f, 0.05f, 0.02f}, {4}).requires_grad_();
  const Tensor r = Tensor::from_data({-1.0f, 1.0f, -2.0f, 2.0f}, {4}).requires_grad_();
  Tensor xg = x.detach().requires_grad_();
  const auto op_backward = [g, xg, t, r](const Tensor& y) {
    y.backward(g);
    for (Tensor leaf : {xg, t, r}) leaf.zero_grad();
  };
  std::vector<Entry> entries;
  // Kernels: the raw math, what the ratio target is about.
  entries.push_back({"softmax (oneDNN) kernels",
                     [x] { return kernels::softmax_forward(x); },
                     [g](const Tensor& y) { (void)kernels::softmax_backward(y, g); },
                     {},
                     {},
                     {}});
  entries.push_back(
      {"multimax order 2 kernels",
       [x, t, r] { return kernels::multimax_forward(x, t, r, 2, Tensor(), false); },
       [x, g, t, r](const Tensor& y) { (void)kernels::multimax_backward(x, y, g, t, r, 2, false); },
       {},
       {},
       {}});
  entries.push_back(
      {"multimax order 1 kernels",
       [x, t, r] { return kernels::multimax_forward(x, t, r, 1, Tensor(), false); },
       [x, g, t, r](const Tensor& y) { (void)kernels::multimax_backward(x, y, g, t, r, 1, false); },
       {},
       {},
       {}});
  // Ops through the tape, as training runs them (x, t and r require grad).
  entries.push_back({"softmax op + tape", [xg] { return softmax(xg); }, op_backward, {}, {}, {}});
  entries.push_back({"multimax op + tape",
                     [xg, t, r] {
                       return multimax(xg, MultiMaxParams{t, r, 2});
                     },
                     op_backward,
                     {},
                     {},
                     {}});
  // The peers, as kernels.
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

void run_normalizers_bench(const BenchOptions& opt) {
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

  // Each kernel row is compared with the softmax kernels, each op row with the softmax op.
  const double softmax_kernels = median(entries[0].total_ms);
  const double softmax_op = median(entries[3].total_ms);
  if (!opt.json)
    std::printf(
        "normalizers fwd+bwd on [%lld, %lld] f32, %d threads, median of %d\n"
        "%-28s %9s %9s %9s %13s\n",
        static_cast<long long>(kRows), static_cast<long long>(kCols), omp_get_max_threads(),
        opt.repeats, "", "fwd ms", "bwd ms", "total ms", "vs softmax");
  for (const Entry& e : entries) {
    const bool op_row = e.name.find("op + tape") != std::string::npos;
    const double total = median(e.total_ms);
    const double ratio = total / (op_row ? softmax_op : softmax_kernels);
    const bool target_row = e.name == "multimax order 2 kernels";
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
      nlohmann::json out = row;
      if (target_row) {
        out["target_ratio"] = kTargetRatio;
        out["meets_target"] = ratio <= kTargetRatio;
      }
      std::printf("%s\n", out.dump().c_str());
    } else {
      std::printf("%-28s %9.3f %9.3f %9.3f %12.3fx\n", e.name.c_str(), median(e.forward_ms),
                  median(e.backward_ms), total, ratio);
      if (target_row)
        std::printf("%-28s %.3fx vs target %.2fx: %s\n", "  target (fwd+bwd ratio)", ratio,
                    kTargetRatio, ratio <= kTargetRatio ? "MET" : "NOT MET");
    }
  }
}

const bool registered = register_bench_suite(
    "normalizers",
    "MultiMax fwd+bwd vs SoftMax (oneDNN) on 16384x256 scores, plus SparseMax, EntMax-1.5, "
    "EvSoftMax and SoftMax with temperature",
    run_normalizers_bench);

}  // namespace

}  // namespace mmx::cli
