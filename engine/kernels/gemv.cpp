#include "engine/kernels/gemv.hpp"

#include "engine/kernels/vec16.hpp"
#include "engine/parallel_region.hpp"

namespace mmx::kernels {

namespace {

// Rows done together: x's vector is loaded once for all of them, and their independent sums
// keep the FMA units busy while the loads of W stream in. 8, not 4: the 25 products of a small
// decode step, weights from L3, took 0.83x the time (a harness of the chain: 407-420 against
// 448-502 us, median of 15; a streaming read of the same bytes 363-379).
constexpr int64_t kRowBlock = 8;
// Below this many multiply-adds one thread is faster than waking the team: a two-thread region
// costs ~3.5 us on these VMs (its futex calls), a 256 x 256 product ~2.5 us on one core.
constexpr int64_t kParallelMinWork = int64_t{1} << 17;

// Rows [row, row + Rows): the 16-float part of each dot product, then the scalar tail.
template <int64_t Rows>
void dot_rows(const float* w, const float* x, int64_t row, int64_t cols, float* sums) {
  Vec acc[Rows] = {};
  const int64_t full = cols - cols % kVecLanes;
  // The next block of rows, fetched while this one is summed: rows of 1-4 KB are too short for
  // the hardware prefetcher to ramp up on (perf put the loop's samples on the loads of W).
  const float* next = w + (row + Rows) * cols;
  for (int64_t c = 0; c < full; c += kVecLanes) {
    const Vec xv = load(x + c);
    for (int64_t i = 0; i < Rows; ++i) {
      __builtin_prefetch(next + i * cols + c);
      acc[i] += load(w + (row + i) * cols + c) * xv;
    }
  }
  for (int64_t i = 0; i < Rows; ++i) {
    float s = horizontal_sum(acc[i]);
    const float* wr = w + (row + i) * cols;
    for (int64_t c = full; c < cols; ++c) s += wr[c] * x[c];
    sums[i] = s;
  }
}

}  // namespace

void gemv(const float* w, const float* x, const float* bias, int64_t rows, int64_t cols, float* y,
          bool accumulate) {
  const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
  parallel_region(rows * cols >= kParallelMinWork, [&] {
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t row = b * kRowBlock;
      const int64_t count = rows - row < kRowBlock ? rows - row : kRowBlock;
      float sums[kRowBlock];
      if (count == kRowBlock) {
        dot_rows<kRowBlock>(w, x, row, cols, sums);
      } else {
        for (int64_t i = 0; i < count; ++i) dot_rows<1>(w, x, row + i, cols, sums + i);
      }
      for (int64_t i = 0; i < count; ++i) {
        const float add = sums[i] + (bias ? bias[row + i] : 0.0f);
        y[row + i] = accumulate ? y[row + i] + add : add;
      }
    }
  });
}

void gemv_naive(const float* w, const float* x, const float* bias, int64_t rows, int64_t cols,
                float* y, bool accumulate) {
  for (int64_t r = 0; r < rows; ++r) {
    double sum = bias ? bias[r] : 0.0;
    for (int64_t c = 0; c < cols; ++c)
      sum += static_cast<double>(w[r * cols + c]) * static_cast<double>(x[c]);
    y[r] = accumulate ? static_cast<float>(y[r] + sum) : static_cast<float>(sum);
  }
}

}  // namespace mmx::kernels
