#include "engine/kernels/evsoftmax.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/error.hpp"
#include "engine/kernels/elementwise.hpp"
#include "engine/kernels/row_layout.hpp"
#include "engine/kernels/vec_exp.hpp"

namespace mmx::kernels {

namespace {
float check_eps(bool training, float eps) {
  MMX_CHECK(eps >= 0.0f && std::isfinite(eps), "evsoftmax: eps must be >= 0 and finite, got ", eps);
  return training ? eps : 0.0f;
}

// The row's threshold and peak: the mean and the largest of its unmasked z (open of them).
struct RowStats {
  double mean = 0.0;
  float top = -INFINITY;
  int64_t open = 0;
};
RowStats row_stats(const float* z, int64_t active) {
  RowStats stats;
  double sum = 0.0;
  for (int64_t j = 0; j < active; ++j) {
    if (z[j] == -INFINITY) continue;
    sum += z[j];
    ++stats.open;
    stats.top = std::max(stats.top, z[j]);
  }
  if (stats.open > 0) stats.mean = sum / static_cast<double>(stats.open);
  return stats;
}

}  // namespace

Tensor evsoftmax_forward(const Tensor& x, const Tensor& mask, bool causal, bool training,
                         float eps) {
  const float floor_weight = check_eps(training, eps);
  const RowLayout layout = row_layout("evsoftmax", x, mask, causal);
  return map_score_rows(layout, contiguous_copy(x),
                        [floor_weight](const float* z, int64_t active, float* p, double*) {
                          const RowStats stats = row_stats(z, active);
                          if (stats.open == 0) {
                            std::fill(p, p + active, 0.0f);
                            return;
                          }
                          float total = 0.0f;
#pragma omp simd reduction(+ : total)
                          for (int64_t j = 0; j < active; ++j) {
                            const float weight =
                                (static_cast<double>(z[j]) >= stats.mean ? 1.0f : 0.0f) +
                                floor_weight;
                            const float e = weight * vec_exp(z[j] - stats.top);
                            p[j] = e;
                            total += e;
                          }
                          const float inv = 1.0f / total;
#pragma omp simd
                          for (int64_t j = 0; j < active; ++j) p[j] *= inv;
                        });
}

Tensor evsoftmax_kept_logits(const Tensor& x, const Tensor& mask, bool causal) {
  const RowLayout layout = row_layout("evsoftmax", x, mask, causal);
  return map_score_rows(
      layout, contiguous_copy(x), [](const float* z, int64_t active, float* out, double*) {
        const RowStats stats = row_stats(z, active);
        for (int64_t j = 0; j < active; ++j)
          out[j] = stats.open > 0 && static_cast<double>(z[j]) >= stats.mean ? z[j] : -INFINITY;
      });
}

Tensor evsoftmax_forward_naive(const Tensor& x, const Tensor& mask, bool causal, bool training,
                               float eps) {
  const double floor_weight = check_eps(training, eps);
  const std::vector<float> xv = x.to_vector();
  const std::vector<float> mv = dense_additive_mask("evsoftmax", x, mask, causal).to_vector();
  const int64_t cols = x.size(-1);
  Tensor p = Tensor::zeros(x.shape());
  for (int64_t start = 0; start < x.numel(); start += cols) {
    std::vector<double> z, open;
    for (int64_t j = start; j < start + cols; ++j) {
      z.push_back(static_cast<double>(xv[j]) + mv[j]);
      if (z.back() > -INFINITY) open.push_back(z.back());
    }
    if (open.empty()) continue;
    double mean = 0.0;
    for (double v : open) mean += v;
    mean /= static_cast<double>(open.size());
    const double top = *std::max_element(open.begin(), open.end());
    std::vector<double> weighted;
    double total = 0.0;
    for (double v : z) {
      weighted.push_back(((v >= mean ? 1.0 : 0.0) + floor_weight) * std::exp(v - top));
      total += weighted.back();
    }
    for (int64_t j = 0; j < cols; ++j)
      p.data()[start + j] = static_cast<float>(weighted[j] / total);
  }
  return p;
}

}  // namespace mmx::kernels
