// The three products of causal attention, with the work above the diagonal skipped (about half
// of the full products'). One matrix (batch x head) per task, in register tiles of 8 rows x 16
// columns: the tiles stop at the diagonal, which a oneDNN matmul per block of rows could not.
// Raw float math, no autograd; each has a `_naive` triple loop beside it for the tests.
#pragma once

#include "engine/tensor.hpp"

namespace mmx::kernels {

// tril(a b^T): a, b [..., T, d] (same batch axes) -> [..., T, T], zero above the diagonal
// (the causal attention scores q k^T, and the gradient of p from p v).
Tensor causal_scores_forward(const Tensor& a, const Tensor& b);
Tensor causal_scores_forward_naive(const Tensor& a, const Tensor& b);

// tril(p) b: p [..., T, T] read on and below the diagonal only, b [..., T, d] -> [..., T, d]
// (the attention output p v, and the gradient of q from the scores).
Tensor causal_weighted_sum_forward(const Tensor& p, const Tensor& b);
Tensor causal_weighted_sum_forward_naive(const Tensor& p, const Tensor& b);

// tril(p)^T b, the same shapes (the gradients of k and of v).
Tensor causal_transposed_sum_forward(const Tensor& p, const Tensor& b);
Tensor causal_transposed_sum_forward_naive(const Tensor& p, const Tensor& b);

}  // namespace mmx::kernels
