#include "engine/kernels/sparsemax.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "engine/kernels/elementwise.hpp"
#include "engine/kernels/row_layout.hpp"
#include "engine/parallel_region.hpp"

namespace mmx::kernels {

Tensor sparsemax_forward(const Tensor& x, const Tensor& mask, bool causal) {
  const RowLayout layout = row_layout("sparsemax", x, mask, causal);
  return map_score_rows(
      layout, contiguous_copy(x), [](const float* z, int64_t active, float* p, double* sorted) {
        double top = -INFINITY;
        for (int64_t j = 0; j < active; ++j) top = std::max(top, static_cast<double>(z[j]));
        if (top == -INFINITY) {
          std::fill(p, p + active, 0.0f);
          return;
        }
        // Work on u = z - max z <= 0: next to a max of 1e16, max - 1 rounds to max, so the
        // support test and tau must not see the raw scores. tau >= -1 (u = 0 alone has mass >= 1
        // there), so only u > -1 can be in the support: sort those few instead of the row.
        int64_t n = 0;
        for (int64_t j = 0; j < active; ++j)
          if (z[j] > -INFINITY && z[j] - top > -1.0) sorted[n++] = z[j] - top;
        std::sort(sorted, sorted + n, std::greater<double>());
        // The support is the k largest u for the largest k with 1 + k u_(k) > sum_{i<=k} u_(i);
        // then tau = (sum of the support - 1) / k.
        double cumulative = 0.0, support_sum = 0.0;
        int64_t support = 0;
        for (int64_t k = 1; k <= n; ++k) {
          cumulative += sorted[k - 1];
          if (1.0 + static_cast<double>(k) * sorted[k - 1] > cumulative) {
            support = k;
            support_sum = cumulative;
          }
        }
        const double tau = (support_sum - 1.0) / static_cast<double>(support);
        for (int64_t j = 0; j < active; ++j)
          p[j] = z[j] > -INFINITY ? static_cast<float>(std::max(z[j] - top - tau, 0.0)) : 0.0f;
      });
}

Tensor sparsemax_forward_naive(const Tensor& x, const Tensor& mask, bool causal) {
  const std::vector<float> xv = x.to_vector();
  const std::vector<float> mv = dense_additive_mask("sparsemax", x, mask, causal).to_vector();
  const int64_t cols = x.size(-1);
  Tensor p = Tensor::zeros(x.shape());
  for (int64_t start = 0; start < x.numel(); start += cols) {
    std::vector<double> z;
    for (int64_t j = start; j < start + cols; ++j) z.push_back(static_cast<double>(xv[j]) + mv[j]);
    const double top = *std::max_element(z.begin(), z.end());
    if (top == -INFINITY) continue;
    for (double& v : z) v -= top;  // max 0: next to a max of 1e16, max - 1 would round to max
    // sum(relu(z - tau)) falls from >= 1 at -1 to 0 at 0: bisect for the tau giving 1.
    double low = -1.0, high = 0.0;
    for (int it = 0; it < 200; ++it) {
      const double mid = 0.5 * (low + high);
      double mass = 0.0;
      for (double v : z) mass += std::max(v - mid, 0.0);
      (mass >= 1.0 ? low : high) = mid;
    }
    for (int64_t j = 0; j < cols; ++j)
      p.data()[start + j] = static_cast<float>(std::max(z[j] - 0.5 * (low + high), 0.0));
  }
  return p;
}

Tensor sparsemax_backward(const Tensor& p, const Tensor& g) {
  const Tensor pc = contiguous_copy(p), gc = contiguous_copy(g);
  Tensor dx = Tensor::empty(p.shape());
  const int64_t cols = p.size(-1);
  const int64_t rows = cols == 0 ? 0 : p.numel() / cols;
  parallel_region(worth_threads(rows, cols), [&] {
#pragma omp for schedule(static)
    for (int64_t row = 0; row < rows; ++row) {
      const float* pr = pc.data() + row * cols;
      const float* gr = gc.data() + row * cols;
      float* dr = dx.data() + row * cols;
      float total = 0.0f, support = 0.0f;
#pragma omp simd reduction(+ : total, support)
      for (int64_t j = 0; j < cols; ++j) {
        const float on = pr[j] > 0.0f ? 1.0f : 0.0f;
        total += on * gr[j];
        support += on;
      }
      const float mean = support > 0.0f ? total / support : 0.0f;
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) dr[j] = pr[j] > 0.0f ? gr[j] - mean : 0.0f;
    }
  });
  return dx;
}

Tensor sparsemax_backward_naive(const Tensor& p, const Tensor& g) {
  const std::vector<float> pv = p.to_vector(), gv = g.to_vector();
  const int64_t cols = p.size(-1);
  Tensor dx = Tensor::zeros(p.shape());
  for (int64_t start = 0; start < p.numel(); start += cols) {
    double support = 0.0;
    for (int64_t j = start; j < start + cols; ++j) support += pv[j] > 0.0f ? 1.0 : 0.0;
    for (int64_t i = 0; i < cols; ++i) {
      const double si = pv[start + i] > 0.0f ? 1.0 : 0.0;
      double acc = 0.0;
      for (int64_t j = 0; j < cols; ++j) {
        const double sj = pv[start + j] > 0.0f ? 1.0 : 0.0;
        const double jacobian = (i == j ? si : 0.0) - (support > 0.0 ? si * sj / support : 0.0);
        acc += jacobian * gv[start + j];
      }
      dx.data()[start + i] = static_cast<float>(acc);
    }
  }
  return dx;
}

}  // namespace mmx::kernels
