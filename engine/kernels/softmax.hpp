// SoftMax and log-SoftMax over the last axis, forward and backward. kernels/softmax.cpp checks
// the arguments; the oneDNN backend (kernels/dnnl/) computes. Raw float math on Tensors, no
// autograd.
#pragma once

#include "engine/tensor.hpp"

namespace mmx::kernels {

// Over the last axis; x of any strides, results contiguous.
Tensor softmax_forward(const Tensor& x);
Tensor softmax_backward(const Tensor& y, const Tensor& gy);  // y = softmax(x)
Tensor log_softmax_forward(const Tensor& x);
Tensor log_softmax_backward(const Tensor& y, const Tensor& gy);  // y = log_softmax(x)

}  // namespace mmx::kernels
