// Matrix-vector products for decoding one token at a time: y = W x + b with W [rows, cols]
// row-major, as a Linear layer stores its weight [out, in]. A one-row matmul through oneDNN
// repacked W on every call (about half of the decoding time); each row of W is already a
// contiguous dot product with x, so W is read once, in place, and never copied.
#pragma once

#include <cstdint>

namespace mmx::kernels {

// y[r] = (accumulate ? y[r] : 0) + (bias ? bias[r] : 0) + sum_c w[r cols + c] x[c], r < rows.
// OpenMP over blocks of rows, 16-float vectors over cols (any cols: the tail runs scalar).
// y must not overlap w, x or bias.
void gemv(const float* w, const float* x, const float* bias, int64_t rows, int64_t cols, float* y,
          bool accumulate = false);
// The same in double, one row after the other: the reference the tests compare gemv with.
void gemv_naive(const float* w, const float* x, const float* bias, int64_t rows, int64_t cols,
                float* y, bool accumulate = false);

}  // namespace mmx::kernels
