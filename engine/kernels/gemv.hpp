// Matrix-vector products for decoding one token at a time: y = W x + b with W [rows, cols]
// row-major, as a Linear layer stores its weight [out, in]. A one-row matmul through oneDNN
// repacked W on every call (about half of the decoding time); each row of W is already a
// contiguous dot product with x, so W is read once, in place, and never copied.
#pragma once

#include <cstdint>

namespace mmx::kernels {

// What a product does with each row's sum s = (bias ? bias[r] : 0) + sum_c w[r cols + c] x[c].
enum class GemvOutput {
  Store,      // y[r] = s
  Add,        // y[r] += s: a residual add
  GeluExact,  // y[r] = GELU(s), the bits of gelu_exact_row: an MLP's hidden layer
};

// y[r] for r < rows, as `output` says. OpenMP over blocks of rows, 16-float vectors over cols
// (any cols: the tail runs scalar). y must not overlap w, x or bias.
void gemv(const float* w, const float* x, const float* bias, int64_t rows, int64_t cols, float* y,
          GemvOutput output = GemvOutput::Store);

// gemv of layer_norm_row(x, ln_weight, ln_bias, cols, eps): a pre-LN block's product, the same
// bits as the two in turn. Each thread normalizes x into a buffer of its own before taking its
// rows: 256 floats cost less than the barrier between threads that a shared buffer would need.
void layer_norm_gemv(const float* x, const float* ln_weight, const float* ln_bias, float eps,
                     const float* w, const float* bias, int64_t rows, int64_t cols, float* y,
                     GemvOutput output = GemvOutput::Store);

// The same in double, one row after the other: the reference the tests compare gemv with.
void gemv_naive(const float* w, const float* x, const float* bias, int64_t rows, int64_t cols,
                float* y, GemvOutput output = GemvOutput::Store);

}  // namespace mmx::kernels
