// Exact (erf) GELU for training: one pass gives y = x * Phi(x) and its slope dy/dx, so the
// backward is one multiply (oneDNN's erf-GELU backward recomputed everything from x, 2-6x the
// forward's time). Raw float math, no autograd; `_naive` is the double-precision reference.
#pragma once

#include "engine/tensor.hpp"

namespace mmx::kernels {

struct GeluWithSlope {
  Tensor y;      // x * Phi(x), Phi the standard normal CDF
  Tensor slope;  // dy/dx = Phi(x) + x * phi(x), phi the standard normal density
};

// x of any strides; both results contiguous, shaped as x.
GeluWithSlope gelu_exact_with_slope(const Tensor& x);
// y alone, bit for bit the y above: inference and training give the same activations.
Tensor gelu_exact_forward(const Tensor& x);
GeluWithSlope gelu_exact_with_slope_naive(const Tensor& x);
// y[0, n) = GELU(x[0, n)), the same bits as gelu_exact_forward: for decoding one token at a time
// into a buffer that is reused (no tensor made). y may be x.
void gelu_exact_row(const float* x, int64_t n, float* y);
// The backward, dL/dx = dL/dy * slope (dy dense, slope's shape). dx goes into `into` when given
// (dense, dy's shape; it may be dy itself), else a new tensor: as softmax_rows_backward.
Tensor gelu_exact_backward(const Tensor& dy, const Tensor& slope, Tensor into = Tensor());

}  // namespace mmx::kernels
