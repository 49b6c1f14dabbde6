#include "engine/strided_copy.hpp"

#include <cstring>

#include "engine/parallel_region.hpp"

namespace mmx {

void copy_strided_naive(const Tensor& src, float* dst) {
  const float* s = src.data();
  int64_t k = 0;
  for_each_offset(src.shape(), src.strides(), [&](int64_t off) { dst[k++] = s[off]; });
}

void copy_strided(const Tensor& src, float* dst) {
  const int64_t n = src.numel();
  if (n == 0) return;
  if (src.is_contiguous()) {
    std::memcpy(dst, src.data(), static_cast<size_t>(n) * sizeof(float));
    return;
  }
  // Rows along the last axis: each row is one strided 1-d copy, rows run in parallel.
  const Shape& shape = src.shape();
  const Shape& strides = src.strides();
  const int64_t cols = shape.back();
  const int64_t col_stride = strides.back();
  const int64_t rows = n / cols;
  const Shape outer_shape(shape.begin(), shape.end() - 1);
  const Shape outer_strides(strides.begin(), strides.end() - 1);
  std::vector<int64_t> row_offsets;
  row_offsets.reserve(static_cast<size_t>(rows));
  for_each_offset(outer_shape, outer_strides, [&](int64_t off) { row_offsets.push_back(off); });
  const float* s = src.data();
  parallel_region(n > (1 << 16), [&] {
#pragma omp for
    for (int64_t r = 0; r < rows; ++r) {
      const float* in = s + row_offsets[static_cast<size_t>(r)];
      float* out = dst + r * cols;
      if (col_stride == 1) {
        std::memcpy(out, in, static_cast<size_t>(cols) * sizeof(float));
      } else {
        for (int64_t c = 0; c < cols; ++c) out[c] = in[c * col_stride];
      }
    }
  });
}

}  // namespace mmx
