// Layer normalization over the last axis, forward and backward. kernels/layer_norm.cpp checks
// the shapes; the oneDNN backend (kernels/dnnl/) computes the forward, our own row loop the
// backward. Raw float math on Tensors, no autograd.
#pragma once

#include "engine/tensor.hpp"

namespace mmx::kernels {

// Over the last axis of a contiguous x [..., C]; weight and bias [C] may be undefined (then
// 1 and 0). mean and variance ([rows]) are kept for the backward.
struct LayerNormForward {
  Tensor y, mean, variance;
};
LayerNormForward layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                    float eps);
struct LayerNormBackward {
  Tensor dx, dweight, dbias;  // dweight/dbias undefined when weight/bias were
};
// From the forward's mean and variance. The weight and bias gradients sum the rows in fixed
// chunks, added in order: the same bits for any thread count.
LayerNormBackward layer_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                      const Tensor& mean, const Tensor& variance, const Tensor& gy,
                                      float eps);
// The same in double, the statistics computed afresh from x: the reference tests compare with.
LayerNormBackward layer_norm_backward_naive(const Tensor& x, const Tensor& weight,
                                            const Tensor& bias, const Tensor& gy, float eps);

// One row of n floats, for decoding a token at a time without a primitive call: y = (x - mean)
// / sqrt(variance + eps) * weight + bias, the biased variance in double (two passes, as the
// reference layer_norm_forward_naive). y may be x.
void layer_norm_row(const float* x, const float* weight, const float* bias, int64_t n, float eps,
                    float* y);

}  // namespace mmx::kernels
