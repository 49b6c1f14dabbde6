#include "engine/kernels/entmax15.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "engine/kernels/elementwise.hpp"
#include "engine/kernels/row_layout.hpp"
#include "engine/parallel_region.hpp"

namespace mmx::kernels {

Tensor entmax15_forward(const Tensor& x, const Tensor& mask, bool causal) {
  const RowLayout layout = row_layout("entmax15", x, mask, causal);
  return map_score_rows(
      layout, contiguous_copy(x), [](const float* z, int64_t active, float* p, double* sorted) {
        double top = -INFINITY;
        for (int64_t j = 0; j < active; ++j) top = std::max(top, static_cast<double>(z[j]));
        if (top == -INFINITY) {
          std::fill(p, p + active, 0.0f);
          return;
        }
        // Work on u = (z - max z) / 2 <= 0: the variance below loses nothing to scores of 1e4.
        // tau >= -1 (u = 0 alone has mass >= 1 there), so only u > -1 (z > max - 2) can be in the
        // support: sort those few instead of the row.
        int64_t n = 0;
        for (int64_t j = 0; j < active; ++j)
          if (z[j] > -INFINITY && (z[j] - top) / 2.0 > -1.0) sorted[n++] = (z[j] - top) / 2.0;
        std::sort(sorted, sorted + n, std::greater<double>());
        // Peters et al., Alg. 2: with the k largest u in the support, sum (u_i - tau)^2 = 1 gives
        // tau_k = mean_k - sqrt((1 - k * var_k) / k); the support is the largest k with
        // tau_k <= u_(k).
        double sum = 0.0, sum_sq = 0.0, tau = 0.0;
        for (int64_t k = 1; k <= n; ++k) {
          const double u = sorted[k - 1], kd = static_cast<double>(k);
          sum += u;
          sum_sq += u * u;
          const double mean = sum / kd;
          const double spread = kd * (sum_sq / kd - mean * mean);
          const double tau_k = mean - std::sqrt(std::max((1.0 - spread) / kd, 0.0));
          if (tau_k <= u) tau = tau_k;
        }
        for (int64_t j = 0; j < active; ++j) {
          const double gap = z[j] > -INFINITY ? std::max((z[j] - top) / 2.0 - tau, 0.0) : 0.0;
          p[j] = static_cast<float>(gap * gap);
        }
      });
}

Tensor entmax15_forward_naive(const Tensor& x, const Tensor& mask, bool causal) {
  const std::vector<float> xv = x.to_vector();
  const std::vector<float> mv = dense_additive_mask("entmax15", x, mask, causal).to_vector();
  const int64_t cols = x.size(-1);
  Tensor p = Tensor::zeros(x.shape());
  for (int64_t start = 0; start < x.numel(); start += cols) {
    std::vector<double> half;
    for (int64_t j = start; j < start + cols; ++j)
      half.push_back((static_cast<double>(xv[j]) + mv[j]) / 2.0);
    const double top = *std::max_element(half.begin(), half.end());
    if (top == -INFINITY) continue;
    for (double& v : half) v -= top;  // max 0: next to a max of 1e16, max - 1 would round to max
    // sum(relu(z/2 - tau)^2) falls from >= 1 at -1 to 0 at 0: bisect for 1.
    double low = -1.0, high = 0.0;
    for (int it = 0; it < 200; ++it) {
      const double mid = 0.5 * (low + high);
      double mass = 0.0;
      for (double v : half) mass += std::pow(std::max(v - mid, 0.0), 2);
      (mass >= 1.0 ? low : high) = mid;
    }
    for (int64_t j = 0; j < cols; ++j)
      p.data()[start + j] =
          static_cast<float>(std::pow(std::max(half[j] - 0.5 * (low + high), 0.0), 2));
  }
  return p;
}

Tensor entmax15_backward(const Tensor& p, const Tensor& g) {
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
      // sqrt(p) once, parked in dx for the pass below: it is this loop's cost.
      float weighted = 0.0f, weights = 0.0f;
      for (int64_t j = 0; j < cols; ++j) {
        dr[j] = std::sqrt(pr[j]);
        weighted += dr[j] * gr[j];
        weights += dr[j];
      }
      const float mean = weights > 0.0f ? weighted / weights : 0.0f;
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) dr[j] *= gr[j] - mean;
    }
  });
  return dx;
}

Tensor entmax15_backward_naive(const Tensor& p, const Tensor& g) {
  const std::vector<float> pv = p.to_vector(), gv = g.to_vector();
  const int64_t cols = p.size(-1);
  Tensor dx = Tensor::zeros(p.shape());
  for (int64_t start = 0; start < p.numel(); start += cols) {
    double total = 0.0;
    for (int64_t j = start; j < start + cols; ++j) total += std::sqrt(static_cast<double>(pv[j]));
    for (int64_t i = 0; i < cols; ++i) {
      const double wi = std::sqrt(static_cast<double>(pv[start + i]));
      double acc = 0.0;
      for (int64_t j = 0; j < cols; ++j) {
        const double wj = std::sqrt(static_cast<double>(pv[start + j]));
        const double jacobian = (i == j ? wi : 0.0) - (total > 0.0 ? wi * wj / total : 0.0);
        acc += jacobian * gv[start + j];
      }
      dx.data()[start + i] = static_cast<float>(acc);
    }
  }
  return dx;
}

}  // namespace mmx::kernels
