#include "nn/optim/grad_clip.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/parallel_region.hpp"

namespace mmx::nn {

namespace {
constexpr int64_t kParallelMinElements = int64_t{1} << 15;  // below it one thread is faster
constexpr int64_t kBlock = int64_t{1} << 15;                // elements per partial sum

// The sum of squares of n floats, in double, as one vector loop. A function of its own: the
// same loop inside parallel_region's lambda, its bounds read through the closure, compiled to
// gathers.
double sum_of_squares(const float* from, int64_t n) {
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(from[i]) * from[i];
  return sum;
}
}  // namespace

float clip_grad_norm(const std::vector<Tensor>& parameters, float max_norm) {
  MMX_CHECK(max_norm > 0.0f, "clip_grad_norm: max_norm must be positive, got ", max_norm);
  NoGrad no_grad;
  std::vector<Tensor> grads;
  for (Tensor p : parameters) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    // The loops below walk raw memory, so a strided gradient is first made contiguous.
    if (!g.is_contiguous()) {
      g = g.contiguous();
      p.set_grad(g);
    }
    grads.push_back(g);
  }
  // Fixed blocks summed in their order: the same norm for any thread count.
  double sum_squares = 0.0;
  for (const Tensor& g : grads) {
    const float* data = g.data();
    const int64_t n = g.numel(), blocks = (n + kBlock - 1) / kBlock;
    std::vector<double> block_sums(static_cast<size_t>(blocks), 0.0);
    parallel_region(blocks > 1, [&] {
#pragma omp for
      for (int64_t b = 0; b < blocks; ++b)
        block_sums[static_cast<size_t>(b)] =
            sum_of_squares(data + b * kBlock, std::min(kBlock, n - b * kBlock));
    });
    for (double s : block_sums) sum_squares += s;
  }
  const float norm = static_cast<float>(std::sqrt(sum_squares));
  const float scale = max_norm / (norm + 1e-6f);
  if (scale < 1.0f) {
    for (Tensor& g : grads) {
      float* data = g.data();
      const int64_t n = g.numel();
      parallel_region(n >= kParallelMinElements, [&] {
#pragma omp for simd
        for (int64_t i = 0; i < n; ++i) data[i] *= scale;
      });
      g.bump_version();
    }
  }
  return norm;
}

}  // namespace mmx::nn
