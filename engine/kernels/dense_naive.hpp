// Plain-loop references for the oneDNN-backed kernels of matmul.hpp, softmax.hpp and
// layer_norm.hpp (llm.c keeps matmul_forward_naive beside matmul_forward for the same reason):
// tests compare the two.
#pragma once

#include "engine/tensor.hpp"

namespace mmx::kernels {

// Triple loop in double over strided, batch-broadcast operands; bias optional.
Tensor matmul_forward_naive(const Tensor& a, const Tensor& b, const Tensor& bias = Tensor());
Tensor softmax_forward_naive(const Tensor& x);
Tensor log_softmax_forward_naive(const Tensor& x);
// Biased variance, as PyTorch and oneDNN; weight/bias may be undefined.
Tensor layer_norm_forward_naive(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                float eps);

}  // namespace mmx::kernels
