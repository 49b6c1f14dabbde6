// SparseMax kernels (Martins & Astudillo 2016): the Euclidean projection of each last-axis row
// onto the simplex, exact by sort, and its backward; naive references (bisection, Jacobian) beside.
#pragma once

#include "engine/tensor.hpp"

namespace mmx::kernels {

// p = argmin_{q in simplex} |q - (x + mask)|^2 per row; masked columns and fully masked rows are 0.
Tensor sparsemax_forward(const Tensor& x, const Tensor& mask, bool causal);
// Finds the threshold by bisection instead of sorting: shares no logic with the fast kernel.
Tensor sparsemax_forward_naive(const Tensor& x, const Tensor& mask, bool causal);

// On the support (p > 0): g - mean_support(g); 0 elsewhere.
Tensor sparsemax_backward(const Tensor& p, const Tensor& g);
// Multiplies g by the explicit Jacobian diag(s) - s s^T / |S| (s: the support indicator).
Tensor sparsemax_backward_naive(const Tensor& p, const Tensor& g);

}  // namespace mmx::kernels
