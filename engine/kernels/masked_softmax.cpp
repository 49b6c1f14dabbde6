#include "engine/kernels/masked_softmax.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/error.hpp"
#include "engine/kernels/elementwise.hpp"
#include "engine/kernels/row_layout.hpp"
#include "engine/kernels/vec16.hpp"
#include "engine/kernels/vec_exp.hpp"
#include "engine/parallel_region.hpp"

namespace mmx::kernels {

namespace {
// p[0, active) holds exps: divides them by their sum, zeroes p[active, cols). Returns the
// factor it multiplied by.
float normalize_row(float* p, int64_t active, int64_t cols) {
  const float inv = 1.0f / sum_row(p, active);
  map_row(p, active, cols, p, [inv](Vec v) { return v * inv; });
  std::fill(p + active, p + cols, 0.0f);
  return inv;
}
}  // namespace

RowNormalization softmax_row_in_place(float* s, int64_t active, int64_t cols, float top) {
  if (top == -INFINITY) active = 0;
  // exp without a reduction, then the sum over the row (hot in L1): see vec16.hpp for why.
  map_row(s, active, cols, s, [top](Vec v) { return vec_exp(v - top); });
  return {top, normalize_row(s, active, cols)};
}

// sum_row and max_row below, and dot_row (masked_softmax.hpp): pairs of chunks on two chains (so
// the adds do not wait on each other), then what is left of the row as one more chunk and a masked
// partial one. Summed one float at a time, those last up to 31 floats were a dependent chain of
// scalar adds that causal rows, which end anywhere, paid on every row (normalize_row, sum_row's
// caller, had 6% of the fused attention's samples in perf).

float sum_row(const float* v, int64_t n) {
  Vec even = {}, odd = {};
  int64_t j = 0;
  for (; j + 2 * kVecLanes <= n; j += 2 * kVecLanes) {
    even += load(v + j);
    odd += load(v + j + kVecLanes);
  }
  if (j + kVecLanes <= n) {
    even += load(v + j);
    j += kVecLanes;
  }
  if (j < n) odd += load_first(v + j, n - j);
  return horizontal_sum(even + odd);
}

float max_row(const float* v, int64_t n) {
  // Why Vecs: GCC 12 left the same loop as `omp simd reduction(max)` one scalar vmaxss per
  // element (80% of the causal softmax forward's samples in perf).
  Vec even = broadcast(-INFINITY), odd = even;
  int64_t j = 0;
  for (; j + 2 * kVecLanes <= n; j += 2 * kVecLanes) {
    even = vmax(even, load(v + j));
    odd = vmax(odd, load(v + j + kVecLanes));
  }
  if (j + kVecLanes <= n) {
    even = vmax(even, load(v + j));
    j += kVecLanes;
  }
  if (j < n) odd = vmax(odd, lanes_below(n - j) ? load_first(v + j, n - j) : odd);
  return horizontal_max(vmax(even, odd));
}

void softmax_temperature_row(const float* x, const float* mask, int64_t active, int64_t cols,
                             float inv_t, float* p) {
  // (x - max x) / T, not x / T - max(x / T): near-equal scores of 1e4 subtract exactly, where
  // x / T would round each of them by up to 1e-3 first.
  float x_top = max_row(x, active);
  if (!mask) {
    // The shifted row's maximum is then exactly 0 ((x_top - x_top) / T), so shift and exp are
    // one pass, with the bits of exp(shifted - 0). A row of only -inf gets zeros.
    if (x_top == -INFINITY) active = 0;
    map_row(x, active, cols, p, [x_top, inv_t](Vec v) { return vec_exp((v - x_top) * inv_t); });
    normalize_row(p, active, cols);
    return;
  }
  if (x_top == -INFINITY) x_top = 0.0f;  // every score -inf: keep -inf - x_top = -inf
  float top = -INFINITY;
#pragma omp simd reduction(max : top)
  for (int64_t j = 0; j < active; ++j) {
    const float s = (x[j] - x_top) * inv_t + mask[j];
    p[j] = s;
    top = std::max(top, s);
  }
  softmax_row_in_place(p, active, cols, top);
}

void softmax_backward_row(const float* p, const float* g, int64_t active, float scale, float* dx) {
  const float dot = dot_row(p, g, active);
#pragma omp simd
  for (int64_t j = 0; j < active; ++j) dx[j] = p[j] * (g[j] - dot) * scale;
}

namespace {
void check_temperature(float temperature) {
  MMX_CHECK(temperature > 0.0f && std::isfinite(temperature),
            "softmax_temperature: temperature must be positive and finite, got ", temperature);
}
}  // namespace

Tensor softmax_temperature_forward(const Tensor& x, float temperature, const Tensor& mask,
                                   bool causal) {
  check_temperature(temperature);
  const RowLayout layout = row_layout("softmax_temperature", x, mask, causal);
  const Tensor xc = contiguous_copy(x);
  Tensor p = Tensor::empty(x.shape());
  const float* xd = xc.data();
  float* pd = p.data();
  const float inv_t = 1.0f / temperature;
  const int64_t cols = layout.cols;
  parallel_region(worth_threads(layout.rows, cols), [&] {
#pragma omp for schedule(static)
    for (int64_t row = 0; row < layout.rows; ++row)
      softmax_temperature_row(xd + row * cols, layout.mask_row(row), layout.active_cols(row), cols,
                              inv_t, pd + row * cols);
  });
  return p;
}

Tensor softmax_temperature_forward_naive(const Tensor& x, float temperature, const Tensor& mask,
                                         bool causal) {
  check_temperature(temperature);
  const std::vector<float> xv = x.to_vector();
  const std::vector<float> mv =
      dense_additive_mask("softmax_temperature", x, mask, causal).to_vector();
  Tensor p = Tensor::zeros(x.shape());
  const int64_t cols = x.size(-1);
  for (int64_t start = 0; start < x.numel(); start += cols) {
    double top = -INFINITY;
    for (int64_t j = start; j < start + cols; ++j)
      top = std::max(top, static_cast<double>(xv[j]) / temperature + mv[j]);
    if (top == -INFINITY) continue;
    double total = 0.0;
    for (int64_t j = start; j < start + cols; ++j)
      total += std::exp(static_cast<double>(xv[j]) / temperature + mv[j] - top);
    for (int64_t j = start; j < start + cols; ++j)
      p.data()[j] = static_cast<float>(
          std::exp(static_cast<double>(xv[j]) / temperature + mv[j] - top) / total);
  }
  return p;
}

Tensor softmax_rows_backward(const Tensor& p, const Tensor& g, float scale, const Tensor& mask,
                             bool causal, Tensor into) {
  const RowLayout layout = row_layout("softmax_rows_backward", p, mask, causal);
  const Tensor pc = contiguous_copy(p), gc = contiguous_copy(g);
  // Each row reads its g (the dot) before writing dx, so `into` may be g's own buffer.
  Tensor dx = output_or_into("softmax_rows_backward", into, p.shape());
  const int64_t cols = layout.cols;
  const float* pd = pc.data();
  const float* gd = gc.data();
  float* dd = dx.data();
  parallel_region(worth_threads(layout.rows, cols), [&] {
#pragma omp for schedule(static)
    for (int64_t row = 0; row < layout.rows; ++row) {
      float* dr = dd + row * cols;
      // Past the active columns p is 0, and so is dx: the causal half is neither read nor summed.
      const int64_t active = layout.active_cols(row);
      softmax_backward_row(pd + row * cols, gd + row * cols, active, scale, dr);
      std::fill(dr + active, dr + cols, 0.0f);
    }
  });
  return dx;
}

Tensor softmax_rows_backward_naive(const Tensor& p, const Tensor& g, float scale) {
  const std::vector<float> pv = p.to_vector(), gv = g.to_vector();
  Tensor dx = Tensor::zeros(p.shape());
  const int64_t cols = p.size(-1);
  for (int64_t start = 0; start < p.numel(); start += cols) {
    double dot = 0.0;
    for (int64_t j = start; j < start + cols; ++j) dot += static_cast<double>(pv[j]) * gv[j];
    for (int64_t j = start; j < start + cols; ++j)
      dx.data()[j] = static_cast<float>(pv[j] * (gv[j] - dot) * scale);
  }
  return dx;
}

}  // namespace mmx::kernels
