// EntMax-1.5 kernels (Peters, Niculae & Martins 2019): p = relu(z/2 - tau)^2 with the exact
// sort-based threshold, and its backward; naive references (bisection, Jacobian) beside.
#pragma once

#include "engine/tensor.hpp"

namespace mmx::kernels {

// Per row, z = x + mask: p = relu(z/2 - tau)^2 with tau such that sum(p) = 1.
Tensor entmax15_forward(const Tensor& x, const Tensor& mask, bool causal);
// Finds tau by bisection instead of sorting.
Tensor entmax15_forward_naive(const Tensor& x, const Tensor& mask, bool causal);

// With w = sqrt(p): dx = w * g - w * sum(w * g) / sum(w).
Tensor entmax15_backward(const Tensor& p, const Tensor& g);
// Multiplies g by the explicit Jacobian diag(w) - w w^T / sum(w).
Tensor entmax15_backward_naive(const Tensor& p, const Tensor& g);

}  // namespace mmx::kernels
