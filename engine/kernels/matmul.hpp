// Matrix products and the matrix transpose view. kernels/matmul.cpp checks the shapes and
// handles empty products; the oneDNN backend (kernels/dnnl/) computes the rest. Raw float math
// on Tensors, no autograd.
#pragma once

#include <cstdint>

#include "engine/tensor.hpp"

namespace mmx::kernels {

// Which operands of a bf16 product keep their bf16 copy for later products: those whose values
// change only by in-place writes that bump their version (weights, which the optimizer updates;
// activations the tape saves for the backward). A kept copy is converted once per version, and
// W and its transposed view share it. fp32 products ignore this.
enum class KeepBf16 { none, a, b, both };

// [..., m, k] x [..., k, n] -> [..., m, n], batch dims broadcast (NumPy rules). Operands are
// read through their strides: a transposed view costs no copy. `bias` (optional, [n], any
// stride) is added to every row inside the same primitive. The result is contiguous.
// With matmul_precision() bf16 (engine/precision.hpp) the operands are rounded to bf16 and the
// product accumulates in fp32 (the operands in `keep` convert once per version); matmul_into
// always runs in fp32.
Tensor matmul_forward(const Tensor& a, const Tensor& b, const Tensor& bias = Tensor(),
                      KeepBf16 keep = KeepBf16::none);
// The same product written into `out`, a view of the output's shape with any strides but a
// dense last axis (a window of a larger tensor); `accumulate` adds to what `out` holds.
void matmul_into(const Tensor& a, const Tensor& b, Tensor& out, bool accumulate = false);
// The view of `t` with its last two axes swapped (shares storage, no autograd).
Tensor matrix_transpose_view(const Tensor& t);
// How many operands matmul_forward has copied to dense memory on this thread because oneDNN
// could not read their strides: tests use it to show that transposed views never are.
int64_t matmul_operand_copies();
// How many operands bf16 products have rounded to bf16 on this thread (a kept copy reused counts
// none): tests use it to show that kept copies are reused, and that bf16 ran at all.
int64_t matmul_bf16_conversions();

}  // namespace mmx::kernels
