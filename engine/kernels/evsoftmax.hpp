// EvSoftMax kernels (Chen et al. 2021): softmax over the entries at or above the row mean of the
// unmasked scores, the rest weighted 0 (eps while training); naive reference beside.
#pragma once

#include "engine/tensor.hpp"

namespace mmx::kernels {

// Per row, z = x + mask and mean = the mean of the unmasked z:
// p_i = (1[z_i >= mean] + eps) exp(z_i) / sum_k (1[z_k >= mean] + eps) exp(z_k),
// with eps = 0 when not training. The backward is softmax_rows_backward(p, g, 1): the weights
// are locally constant in z.
Tensor evsoftmax_forward(const Tensor& x, const Tensor& mask, bool causal, bool training,
                         float eps);
// What the forward exponentiates when not training: z where z >= mean, -inf elsewhere (and in
// masked or fully masked rows; columns past a causal row's end are 0, as in the forward).
// softmax of it is evsoftmax_forward(x, mask, causal, false, 0), up to rounding.
Tensor evsoftmax_kept_logits(const Tensor& x, const Tensor& mask, bool causal);
Tensor evsoftmax_forward_naive(const Tensor& x, const Tensor& mask, bool causal, bool training,
                               float eps);

}  // namespace mmx::kernels
