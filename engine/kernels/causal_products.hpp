// The three products of causal attention, with the work above the diagonal skipped (about half
// of the full products'). One matrix (batch x head) per task, in register tiles of 8 rows x 16
// columns: the tiles stop at the diagonal, which a oneDNN matmul per block of rows could not.
// Raw float math, no autograd; each has a `_naive` triple loop beside it for the tests.
#pragma once

#include "engine/tensor.hpp"

namespace mmx::kernels {

// Each result is multiplied by `scale` as it is stored (attention's 1/sqrt(d) costs no pass).

// scale tril(a b^T): a, b [..., T, d] (same batch axes) -> [..., T, T], zero above the
// diagonal (the causal attention scores q k^T / sqrt(d), and the gradient of p from p v).
Tensor causal_scores_forward(const Tensor& a, const Tensor& b, float scale = 1.0f);
Tensor causal_scores_forward_naive(const Tensor& a, const Tensor& b, float scale = 1.0f);

// scale tril(p) b: p [..., T, T] read on and below the diagonal only, b [..., T, d] ->
// [..., T, d] (the attention output p v, and the gradient of q from the scores).
Tensor causal_weighted_sum_forward(const Tensor& p, const Tensor& b, float scale = 1.0f);
Tensor causal_weighted_sum_forward_naive(const Tensor& p, const Tensor& b, float scale = 1.0f);

// scale tril(p)^T b, the same shapes (the gradients of k and of v).
Tensor causal_transposed_sum_forward(const Tensor& p, const Tensor& b, float scale = 1.0f);
Tensor causal_transposed_sum_forward_naive(const Tensor& p, const Tensor& b, float scale = 1.0f);

}  // namespace mmx::kernels
