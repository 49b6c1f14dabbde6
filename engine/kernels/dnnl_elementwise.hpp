// The oneDNN-backed elementwise kernels (binary with broadcasting, eltwise forward/backward).
// Declared here without <dnnl.hpp> so that only engine/kernels/dnnl/*.cpp see oneDNN.
#pragma once

#include "engine/kernels/elementwise.hpp"

namespace mmx::kernels {

// a (op) b on a oneDNN binary primitive, the result contiguous. Returns an undefined Tensor
// when oneDNN cannot take the inputs at full speed: when `a` repeats (oneDNN 2.6 broadcasts
// src1 only) or an input is not dense apart from its broadcast axes (oneDNN then drops to a
// reference implementation, measured ~100x slower than our strided loop on a transposed
// [4096, 512] add). Expanded (stride-0) axes of `b` are broadcast axes, no copy.
Tensor dnnl_binary(BinaryOp op, const Tensor& a, const Tensor& b);

// Eltwise forward/backward on oneDNN. `x` and `grad_y` must be contiguous (oneDNN 2.6 eltwise
// gives dst the layout of src, and our outputs are contiguous). Not for Eltwise::Linear.
Tensor dnnl_eltwise_forward(Eltwise kind, const Tensor& x, float alpha, float beta);
Tensor dnnl_eltwise_backward(Eltwise kind, const Tensor& x, const Tensor& grad_y, float alpha,
                             float beta);

}  // namespace mmx::kernels
