// Matrix products and the matrix transpose view. kernels/matmul.cpp checks the shapes and
// handles empty products; the oneDNN backend (kernels/dnnl/) computes the rest. Raw float math
// on Tensors, no autograd.
#pragma once

#include <cstdint>

#include "engine/tensor.hpp"

namespace mmx::kernels {

// [..., m, k] x [..., k, n] -> [..., m, n], batch dims broadcast (NumPy rules). Operands are
// read through their strides: a transposed view costs no copy. `bias` (optional, [n], any
// stride) is added to every row inside the same primitive. The result is contiguous.
// With matmul_precision() bf16 (engine/precision.hpp) the operands are rounded to bf16 and the
// product accumulates in fp32; matmul_into always runs in fp32.
Tensor matmul_forward(const Tensor& a, const Tensor& b, const Tensor& bias = Tensor());
// The same product written into `out`, a view of the output's shape with any strides but a
// dense last axis (a window of a larger tensor); `accumulate` adds to what `out` holds.
void matmul_into(const Tensor& a, const Tensor& b, Tensor& out, bool accumulate = false);
// The view of `t` with its last two axes swapped (shares storage, no autograd).
Tensor matrix_transpose_view(const Tensor& t);
// How many operands matmul_forward has copied to dense memory on this thread because oneDNN
// could not read their strides: tests use it to show that transposed views never are.
int64_t matmul_operand_copies();

}  // namespace mmx::kernels
