#include "engine/kernels/gemv.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/kernels/gelu.hpp"
#include "engine/kernels/layer_norm.hpp"
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

// Rows handed to a thread at a time: 4 blocks, whose outputs' GELU is then 2 whole Vecs (run on
// one 8-row block at a time it went scalar: one-thread decoding lost 15%).
constexpr int64_t kRowChunk = 4 * kRowBlock;

// The rows of y, chunks of them split among the threads of the team this runs in (orphaned
// `omp for`: every row on this thread when it runs in none).
void gemv_rows(const float* w, const float* x, const float* bias, int64_t rows, int64_t cols,
               float* y, GemvOutput output) {
  const int64_t chunks = (rows + kRowChunk - 1) / kRowChunk;
#pragma omp for schedule(static)
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    const int64_t first = chunk * kRowChunk, end = std::min(rows, first + kRowChunk);
    for (int64_t row = first; row < end; row += kRowBlock) {
      const int64_t count = std::min(kRowBlock, end - row);
      float sums[kRowBlock];
      if (count == kRowBlock) {
        dot_rows<kRowBlock>(w, x, row, cols, sums);
      } else {
        for (int64_t i = 0; i < count; ++i) dot_rows<1>(w, x, row + i, cols, sums + i);
      }
      for (int64_t i = 0; i < count; ++i) {
        const float s = sums[i] + (bias ? bias[row + i] : 0.0f);
        y[row + i] = output == GemvOutput::Add ? y[row + i] + s : s;
      }
    }
    if (output == GemvOutput::GeluExact) gelu_exact_row(y + first, end - first, y + first);
  }
}

}  // namespace

void gemv(const float* w, const float* x, const float* bias, int64_t rows, int64_t cols, float* y,
          GemvOutput output) {
  parallel_region(rows * cols >= kParallelMinWork,
                  [&] { gemv_rows(w, x, bias, rows, cols, y, output); });
}

void layer_norm_gemv(const float* x, const float* ln_weight, const float* ln_bias, float eps,
                     const float* w, const float* bias, int64_t rows, int64_t cols, float* y,
                     GemvOutput output) {
  parallel_region(rows * cols >= kParallelMinWork, [&] {
    thread_local std::vector<float> normed;  // grows once, then serves every token
    if (normed.size() < static_cast<size_t>(cols)) normed.resize(static_cast<size_t>(cols));
    layer_norm_row(x, ln_weight, ln_bias, cols, eps, normed.data());
    gemv_rows(w, normed.data(), bias, rows, cols, y, output);
  });
}

void gemv_naive(const float* w, const float* x, const float* bias, int64_t rows, int64_t cols,
                float* y, GemvOutput output) {
  for (int64_t r = 0; r < rows; ++r) {
    double sum = bias ? bias[r] : 0.0;
    for (int64_t c = 0; c < cols; ++c)
      sum += static_cast<double>(w[r * cols + c]) * static_cast<double>(x[c]);
    if (output == GemvOutput::GeluExact) sum = 0.5 * sum * std::erfc(-sum / std::sqrt(2.0));
    y[r] = output == GemvOutput::Add ? static_cast<float>(y[r] + sum) : static_cast<float>(sum);
  }
}

}  // namespace mmx::kernels
