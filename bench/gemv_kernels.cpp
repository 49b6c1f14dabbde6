// One-row products, as decoding a token runs them, three ways on the small config's shapes:
// the gemv kernel reading the [out, in] weight in place; the engine's linear (oneDNN matmul with
// the bias fused) on the weight as Linear holds it (oneDNN repacks it on every call); and the
// same with the weight transposed to [in, out] once beforehand (pre-packed: oneDNN reads it as a
// plain row-major operand). Timed alternately, call by call, in one process.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "bench/kernel_bench.hpp"
#include "engine/autograd/no_grad.hpp"
#include "engine/kernels/gemv.hpp"
#include "engine/ops.hpp"
#include "engine/random.hpp"

namespace mmx::bench {

namespace {

template <typename F>
double time_us(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
      .count();
}

struct GemvShape {
  int64_t in, out;
  const char* layer;
};

}  // namespace

void run_gemv(const KernelBenchOptions& opt) {
  NoGrad no_grad;
  Generator gen(1);
  const GemvShape shapes[] = {
      {256, 768, "qkv"}, {256, 256, "proj"}, {256, 1024, "mlp.fc"}, {1024, 256, "mlp.out"}};
  if (!opt.json)
    std::printf(
        "one-row products x [1, in] W^T, W [out, in] f32, %d threads, median of %d "
        "(us; GB/s of the weight)\n%-8s %5s %5s %9s %7s %12s %7s %12s %7s\n",
        omp_get_max_threads(), opt.repeats, "layer", "in", "out", "gemv", "GB/s", "linear", "GB/s",
        "prepacked", "GB/s");
  for (const GemvShape& s : shapes) {
    const Tensor w = Tensor::randn({s.out, s.in}, gen), x = Tensor::randn({1, s.in}, gen);
    const Tensor b = Tensor::randn({s.out}, gen);
    // linear(x, W, b) = x W^T + b. Prepacked: W^T made dense [in, out] once, and handed to
    // linear as the [out, in] view of it, so that oneDNN reads a plain row-major operand.
    const Tensor w_packed = transpose(transpose(w, 0, 1).contiguous(), 0, 1);
    Tensor y = Tensor::zeros({s.out});
    const auto gemv = [&] { kernels::gemv(w.data(), x.data(), b.data(), s.out, s.in, y.data()); };
    const auto view = [&] { (void)linear(x, w, b); };
    const auto packed = [&] { (void)linear(x, w_packed, b); };
    for (int i = 0; i < 3; ++i) {  // warm-up: primitive creation, caches
      gemv();
      view();
      packed();
    }
    std::vector<double> gemv_us, view_us, packed_us;
    for (int r = 0; r < opt.repeats; ++r) {
      gemv_us.push_back(time_us(gemv));
      view_us.push_back(time_us(view));
      packed_us.push_back(time_us(packed));
    }
    const double g = median(gemv_us), v = median(view_us), p = median(packed_us);
    const double bytes = 4.0 * static_cast<double>(s.in * s.out);
    const auto gb_per_s = [&](double us) { return bytes / (us * 1e3); };
    if (opt.json) {
      const nlohmann::json row = {{"suite", "gemv"},
                                  {"layer", s.layer},
                                  {"in", s.in},
                                  {"out", s.out},
                                  {"threads", omp_get_max_threads()},
                                  {"repeats", opt.repeats},
                                  {"gemv_us", g},
                                  {"matmul_view_us", v},
                                  {"matmul_prepacked_us", p}};
      std::printf("%s\n", row.dump().c_str());
    } else {
      std::printf("%-8s %5lld %5lld %9.2f %7.1f %12.2f %7.1f %12.2f %7.1f\n", s.layer,
                  static_cast<long long>(s.in), static_cast<long long>(s.out), g, gb_per_s(g), v,
                  gb_per_s(v), p, gb_per_s(p));
    }
  }
}

}  // namespace mmx::bench
