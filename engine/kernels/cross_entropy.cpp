#include "engine/kernels/cross_entropy.hpp"

#include <algorithm>
#include <cmath>

#include "engine/kernels/masked_softmax.hpp"
#include "engine/kernels/vec16.hpp"
#include "engine/kernels/vec_exp.hpp"
#include "engine/parallel_region.hpp"

namespace mmx::kernels {

namespace {
// Below this many logits, OpenMP start-up costs more than the work.
constexpr int64_t kParallelMinElements = 1 << 14;

int64_t count_rows(const std::vector<int64_t>& targets, int64_t ignore_index) {
  return static_cast<int64_t>(
      std::count_if(targets.begin(), targets.end(), [&](int64_t t) { return t != ignore_index; }));
}

// The sum over a row of exp(x - top), as Vecs: without -ffast-math GCC calls libm's scalar expf
// from an omp simd loop (perf showed `__expf_fma`), and ends each row's sum with a scalar fold.
float sum_exp_row(const float* row, int64_t c, float top) {
  Vec sums{};
  int64_t j = 0;
  for (; j + kVecLanes <= c; j += kVecLanes) sums += vec_exp(load(row + j) - top);
  float tail = 0.0f;
  for (; j < c; ++j) tail += vec_exp(row[j] - top);
  return horizontal_sum(sums) + tail;
}
}  // namespace

CrossEntropyForward cross_entropy_forward(const Tensor& logits, const std::vector<int64_t>& targets,
                                          int64_t ignore_index) {
  const int64_t rows = logits.size(0), c = logits.size(1);
  CrossEntropyForward out{0.0f, count_rows(targets, ignore_index), Tensor::empty({rows})};
  const float* x = logits.data();
  float* lse = out.logsumexp.data();
  double total = 0.0;
  // Each thread's part, added once at the end: Clang allows no reduction clause on a variable
  // the region reaches through a lambda's capture.
  parallel_region(rows * c >= kParallelMinElements, [&] {
    double part = 0.0;
#pragma omp for nowait
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = x + r * c;
      const float mx = max_row(row, c);
      lse[r] = mx + std::log(sum_exp_row(row, c, mx));
      const int64_t t = targets[static_cast<size_t>(r)];
      if (t != ignore_index) part += static_cast<double>(lse[r]) - row[t];
    }
#pragma omp atomic
    total += part;
  });
  out.loss = out.counted > 0 ? static_cast<float>(total / static_cast<double>(out.counted)) : 0.0f;
  return out;
}

CrossEntropyForward cross_entropy_forward_naive(const Tensor& logits,
                                                const std::vector<int64_t>& targets,
                                                int64_t ignore_index) {
  const int64_t rows = logits.size(0), c = logits.size(1);
  CrossEntropyForward out{0.0f, count_rows(targets, ignore_index), Tensor::empty({rows})};
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    double mx = -INFINITY, sum = 0.0;
    for (int64_t j = 0; j < c; ++j) mx = std::max<double>(mx, logits.at({r, j}));
    for (int64_t j = 0; j < c; ++j) sum += std::exp(logits.at({r, j}) - mx);
    const double lse = mx + std::log(sum);
    out.logsumexp.data()[r] = static_cast<float>(lse);
    const int64_t t = targets[static_cast<size_t>(r)];
    if (t != ignore_index) total += lse - logits.at({r, t});
  }
  out.loss = out.counted > 0 ? static_cast<float>(total / static_cast<double>(out.counted)) : 0.0f;
  return out;
}

Tensor cross_entropy_backward(const Tensor& logits, const Tensor& logsumexp,
                              const std::vector<int64_t>& targets, int64_t ignore_index,
                              float scale) {
  const int64_t rows = logits.size(0), c = logits.size(1);
  Tensor grad = Tensor::empty({rows, c});
  const float* x = logits.data();
  const float* lse = logsumexp.data();
  float* g = grad.data();
  parallel_region(rows * c >= kParallelMinElements, [&] {
#pragma omp for
    for (int64_t r = 0; r < rows; ++r) {
      float* out = g + r * c;
      const int64_t t = targets[static_cast<size_t>(r)];
      if (t == ignore_index) {
        std::fill(out, out + c, 0.0f);
        continue;
      }
      const float* row = x + r * c;
      const float shift = lse[r];
      map_row(row, c, c, out, [shift, scale](Vec v) { return vec_exp(v - shift) * scale; });
      out[t] -= scale;
    }
  });
  return grad;
}

Tensor cross_entropy_backward_naive(const Tensor& logits, const std::vector<int64_t>& targets,
                                    int64_t ignore_index, float scale) {
  const int64_t rows = logits.size(0), c = logits.size(1);
  Tensor grad = Tensor::zeros({rows, c});
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = targets[static_cast<size_t>(r)];
    if (t == ignore_index) continue;
    double mx = -INFINITY, sum = 0.0;
    for (int64_t j = 0; j < c; ++j) mx = std::max<double>(mx, logits.at({r, j}));
    for (int64_t j = 0; j < c; ++j) sum += std::exp(logits.at({r, j}) - mx);
    for (int64_t j = 0; j < c; ++j) {
      const double p = std::exp(logits.at({r, j}) - mx) / sum;
      grad.data()[r * c + j] = static_cast<float>((p - (j == t ? 1.0 : 0.0)) * scale);
    }
  }
  return grad;
}

}  // namespace mmx::kernels
