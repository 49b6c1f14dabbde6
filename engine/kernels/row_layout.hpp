// RowLayout: how the normalizer kernels (MultiMax, SparseMax, EntMax-1.5, EvSoftMax, SoftMax
// with temperature) walk a tensor: rows of its last axis, each with its mask row and causal length.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "engine/parallel_region.hpp"
#include "engine/tensor.hpp"

namespace mmx::kernels {

struct RowLayout {
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t queries = 1;  // size of axis -2: row k of x is query k % queries of its [T, S] block
  bool causal = false;
  Tensor mask;                           // contiguous, last axis == cols; undefined: no mask
  std::vector<int64_t> mask_row_offset;  // where each row's mask row starts in `mask`

  // The row's additive mask (cols floats) or nullptr.
  const float* mask_row(int64_t row) const {
    return mask.defined() ? mask.data() + mask_row_offset[static_cast<size_t>(row)] : nullptr;
  }
  // Columns [0, active) may carry weight: the causal limit, cut after the last column the mask
  // leaves open. Columns past it are written as 0 and never read, so padding a row with masked
  // columns costs nothing and cannot change a single bit of its result.
  int64_t active_cols(int64_t row) const;
};

// Checks x (at least 1-d; 2-d when causal) and the mask (broadcastable to x, may be undefined),
// naming `op` and the shapes when they do not fit.
RowLayout row_layout(const char* op, const Tensor& x, const Tensor& mask, bool causal);

// The mask and the causal limit as one dense additive tensor of x's shape (0 or -inf, plus the
// mask's finite values): what the naive reference kernels read, so they share no indexing
// logic with the fast ones.
Tensor dense_additive_mask(const char* op, const Tensor& x, const Tensor& mask, bool causal);

// Large rows x cols pay for an OpenMP team; small ones run on the calling thread.
inline bool worth_threads(int64_t rows, int64_t cols) {
  return rows > 1 && rows * cols >= 16384;
}

// The skeleton of the sort- and mean-based normalizers: for each row (in parallel) calls
// row_fn(z, active, out, scratch) with z[j] = x[j] + mask[j] for j < active, out the row's
// output, and a per-thread scratch of `cols` doubles; out[active, cols) is zeroed after.
template <typename RowFn>
Tensor map_score_rows(const RowLayout& layout, const Tensor& x_contiguous, RowFn&& row_fn) {
  Tensor out = Tensor::empty(x_contiguous.shape());
  const int64_t cols = layout.cols;
  const float* xd = x_contiguous.data();
  float* od = out.data();
  parallel_region(worth_threads(layout.rows, cols), [&] {
    std::vector<double> scratch(static_cast<size_t>(cols));
    std::vector<float> z(static_cast<size_t>(cols));
#pragma omp for schedule(static)
    for (int64_t row = 0; row < layout.rows; ++row) {
      const float* xr = xd + row * cols;
      const float* m = layout.mask_row(row);
      const int64_t active = layout.active_cols(row);
      for (int64_t j = 0; j < active; ++j) z[j] = m ? xr[j] + m[j] : xr[j];
      float* o = od + row * cols;
      row_fn(z.data(), active, o, scratch.data());
      std::fill(o + active, o + cols, 0.0f);
    }
  });
  return out;
}

}  // namespace mmx::kernels
