// Layer normalization over the last axis, forward and backward. kernels/layer_norm.cpp checks
// the shapes; the oneDNN backend (kernels/dnnl/) computes. Raw float math on Tensors, no
// autograd.
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
LayerNormBackward layer_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                      const Tensor& mean, const Tensor& variance, const Tensor& gy,
                                      float eps);

}  // namespace mmx::kernels
