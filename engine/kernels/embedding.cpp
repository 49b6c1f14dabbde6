#include "engine/kernels/embedding.hpp"

#include <algorithm>

#include "engine/parallel_region.hpp"

namespace mmx::kernels {

namespace {
// Below this many floats moved, OpenMP start-up costs more than the copy.
constexpr int64_t kParallelMinElements = 1 << 15;
}  // namespace

Tensor embedding_forward(const Tensor& weight, const std::vector<int64_t>& ids) {
  const int64_t n = static_cast<int64_t>(ids.size()), d = weight.size(1);
  const int64_t row_stride = weight.strides()[0], col_stride = weight.strides()[1];
  Tensor out = Tensor::empty({n, d});
  const float* w = weight.data();
  float* o = out.data();
  parallel_region(n * d >= kParallelMinElements, [&] {
#pragma omp for
    for (int64_t i = 0; i < n; ++i) {
      const float* src = w + ids[static_cast<size_t>(i)] * row_stride;
      float* dst = o + i * d;
#pragma omp simd
      for (int64_t j = 0; j < d; ++j) dst[j] = src[j * col_stride];
    }
  });
  return out;
}

Tensor embedding_forward_naive(const Tensor& weight, const std::vector<int64_t>& ids) {
  const int64_t n = static_cast<int64_t>(ids.size()), d = weight.size(1);
  Tensor out = Tensor::empty({n, d});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j)
      out.data()[i * d + j] = weight.at({ids[static_cast<size_t>(i)], j});
  return out;
}

Tensor embedding_backward(const Tensor& gy, const std::vector<int64_t>& ids, int64_t vocab) {
  const int64_t n = static_cast<int64_t>(ids.size()), d = gy.size(1);
  Tensor gw = Tensor::zeros({vocab, d});
  const float* g = gy.data();
  float* w = gw.data();
  // Repeated ids write the same row, so threads split the columns, not the ids: each thread
  // owns a band of columns of every row and no two threads touch one float.
  const int64_t band = 16;  // one 64-byte cache line of floats
  const int64_t bands = (d + band - 1) / band;
  parallel_region(n * d >= kParallelMinElements && bands > 1, [&] {
#pragma omp for
    for (int64_t b = 0; b < bands; ++b) {
      const int64_t begin = b * band, end = std::min(d, begin + band);
      for (int64_t i = 0; i < n; ++i) {
        float* dst = w + ids[static_cast<size_t>(i)] * d;
        const float* src = g + i * d;
#pragma omp simd
        for (int64_t j = begin; j < end; ++j) dst[j] += src[j];
      }
    }
  });
  return gw;
}

Tensor embedding_backward_naive(const Tensor& gy, const std::vector<int64_t>& ids, int64_t vocab) {
  const int64_t n = static_cast<int64_t>(ids.size()), d = gy.size(1);
  Tensor gw = Tensor::zeros({vocab, d});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) gw.data()[ids[static_cast<size_t>(i)] * d + j] += gy.at({i, j});
  return gw;
}

}  // namespace mmx::kernels
