#include "engine/kernels/gelu.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/error.hpp"
#include "engine/kernels/elementwise.hpp"
#include "engine/kernels/vec_exp.hpp"
#include "engine/parallel_region.hpp"

namespace mmx::kernels {

namespace {

// Phi(x) through Abramowitz & Stegun 7.1.26 for erfc(z), z = |x| / sqrt(2) (absolute error
// below 1.5e-7, the approximation oneDNN's erf-GELU uses too): erfc(z) = t * poly(t) * e^(-z^2)
// with t = 1 / (1 + p z). Phi(x) = erfc(z) / 2 for x < 0 is taken directly, without the
// cancellation of 1 - erf, and e^(-x^2 / 2) is shared with the density the slope needs.
inline void gelu_and_slope(float x, float& y, float& slope) {
  constexpr float kInvSqrt2 = 0.70710678118654752f;
  constexpr float kInvSqrt2Pi = 0.39894228040143268f;
  const float z = std::fabs(x) * kInvSqrt2;
  const float t = 1.0f / (1.0f + 0.3275911f * z);
  float poly = 1.061405429f;
  poly = poly * t - 1.453152027f;
  poly = poly * t + 1.421413741f;
  poly = poly * t - 0.284496736f;
  poly = poly * t + 0.254829592f;
  const float gauss = vec_exp(-0.5f * x * x);  // e^(-z^2)
  const float tail = 0.5f * t * poly * gauss;  // Phi(-|x|)
  const float cdf = x < 0.0f ? tail : 1.0f - tail;
  y = x * cdf;
  slope = cdf + x * kInvSqrt2Pi * gauss;
}

// Runs gelu_and_slope over x's elements; a null `slope` skips its stores (the compiler drops the
// slope's arithmetic from that loop).
void gelu_pass(const Tensor& x, float* y, float* slope) {
  const Tensor xc = contiguous_copy(x);
  const float* xd = xc.data();
  const int64_t n = x.numel();
  // Blocks of 4096 floats: enough work per thread to pay for the region, and each block's
  // streams stay in L1 while the loop runs.
  constexpr int64_t kBlock = 4096;
  parallel_region(n >= 4 * kBlock, [&] {
#pragma omp for schedule(static)
    for (int64_t start = 0; start < n; start += kBlock) {
      const int64_t end = std::min(n, start + kBlock);
      if (slope) {
#pragma omp simd
        for (int64_t i = start; i < end; ++i) gelu_and_slope(xd[i], y[i], slope[i]);
      } else {
#pragma omp simd
        for (int64_t i = start; i < end; ++i) {
          float unused;
          gelu_and_slope(xd[i], y[i], unused);
        }
      }
    }
  });
}

}  // namespace

void gelu_exact_row(const float* x, int64_t n, float* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    float unused;
    gelu_and_slope(x[i], y[i], unused);
  }
}

GeluWithSlope gelu_exact_with_slope(const Tensor& x) {
  GeluWithSlope out{Tensor::empty(x.shape()), Tensor::empty(x.shape())};
  gelu_pass(x, out.y.data(), out.slope.data());
  return out;
}

Tensor gelu_exact_forward(const Tensor& x) {
  Tensor y = Tensor::empty(x.shape());
  gelu_pass(x, y.data(), nullptr);
  return y;
}

GeluWithSlope gelu_exact_with_slope_naive(const Tensor& x) {
  const std::vector<float> v = x.to_vector();
  GeluWithSlope out{Tensor::empty(x.shape()), Tensor::empty(x.shape())};
  for (size_t i = 0; i < v.size(); ++i) {
    const double xi = v[i];
    const double cdf = 0.5 * std::erfc(-xi / std::sqrt(2.0));
    out.y.data()[i] = static_cast<float>(xi * cdf);
    out.slope.data()[i] =
        static_cast<float>(cdf + xi * std::exp(-0.5 * xi * xi) / std::sqrt(2.0 * M_PI));
  }
  return out;
}

Tensor gelu_exact_backward(const Tensor& dy, const Tensor& slope, Tensor into) {
  MMX_CHECK(dy.shape() == slope.shape() && dy.is_contiguous() && slope.is_contiguous(),
            "gelu backward: dy ", to_string(dy.shape()), " and slope ", to_string(slope.shape()),
            " must be dense and of one shape");
  Tensor dx = output_or_into("gelu backward", into, dy.shape());
  const float* g = dy.data();
  const float* s = slope.data();
  float* out = dx.data();
  const int64_t n = dx.numel();
  constexpr int64_t kParallelMin = int64_t{1} << 16;  // the forward's 4 blocks of 4096 and more
  parallel_region(n >= kParallelMin, [&] {
#pragma omp for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) out[i] = g[i] * s[i];
  });
  return dx;
}

}  // namespace mmx::kernels
