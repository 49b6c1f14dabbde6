// Elementwise kernels: broadcast binaries, eltwise activations, where. Raw float math, no autograd.
// Each fast kernel (oneDNN or an own strided loop) has a `_naive` reference beside it for the
// tests.
#pragma once

#include "engine/tensor.hpp"

namespace mmx::kernels {

// --------------------------------------------------------------- broadcast binaries
enum class BinaryOp { Add, Sub, Mul, Div };
const char* binary_op_name(BinaryOp op);  // "add", "sub", ...

// a (op) b with NumPy broadcasting, any strides; the result is contiguous. Uses oneDNN when
// it can, else `binary_strided`. Throws naming `binary_op_name(op)` and both shapes.
Tensor binary_forward(BinaryOp op, const Tensor& a, const Tensor& b);
// The own loop: outer axes by index, the innermost axis as a strided SIMD loop.
Tensor binary_strided(BinaryOp op, const Tensor& a, const Tensor& b);
Tensor binary_forward_naive(BinaryOp op, const Tensor& a, const Tensor& b);

// Strides of `t` read as a tensor of `out_shape` (right-aligned): 0 on every broadcast axis.
Shape broadcast_strides(const Tensor& t, const Shape& out_shape);
// A contiguous copy of any view (no autograd; returns `t` itself when already contiguous).
Tensor contiguous_copy(const Tensor& t);
// The output of a kernel that may write over an input's buffer: `into` when given (it must be
// dense and of `shape`, else an error naming `op`), else a new tensor of `shape`.
Tensor output_or_into(const char* op, const Tensor& into, const Shape& shape);

// --------------------------------------------------------------- eltwise activations
// alpha/beta follow oneDNN: Linear is alpha*x + beta, Pow is x^alpha, Relu's alpha is the
// negative slope; the others ignore them.
enum class Eltwise { Linear, Exp, Log, Sqrt, Pow, Tanh, Relu, GeluTanh, GeluExact };
const char* eltwise_name(Eltwise kind);

Tensor eltwise_forward(Eltwise kind, const Tensor& x, float alpha = 0.0f, float beta = 0.0f);
// dL/dx from x and dL/dy.
Tensor eltwise_backward(Eltwise kind, const Tensor& x, const Tensor& grad_y, float alpha = 0.0f,
                        float beta = 0.0f);
Tensor eltwise_forward_naive(Eltwise kind, const Tensor& x, float alpha = 0.0f, float beta = 0.0f);
Tensor eltwise_backward_naive(Eltwise kind, const Tensor& x, const Tensor& grad_y,
                              float alpha = 0.0f, float beta = 0.0f);

// --------------------------------------------------------------- selection
// cond != 0 ? a : b, the three broadcast together. `op` names the caller in errors.
Tensor where_forward(const Tensor& cond, const Tensor& a, const Tensor& b, const char* op);
Tensor where_forward_naive(const Tensor& cond, const Tensor& a, const Tensor& b);

}  // namespace mmx::kernels
