// Matrix products and the matrix transpose view. kernels/matmul.cpp checks the shapes and
// handles empty products; the oneDNN backend (kernels/dnnl/) computes the rest. Raw float math
// on Tensors, no autograd.
#pragma once

#include <cstdint>

#include "engine/tensor.hpp"

namespace mmx::kernels {

// What a product may keep, for later products, of operands whose values change only by in-place
// writes that bump their version (weights, which the optimizer updates; activations the tape
// saves for the backward). What is kept is redone once per version.
struct KeepOperands {
  // bf16 products: the operand's bf16 copy (W and its transposed view share one).
  bool a_bf16 = false;
  bool b_bf16 = false;
  // b is a weight of a 2-D product: packed into the primitive's own layout for it (fp32 or bf16),
  // so that the primitive does not repack it on every call, as it must a plain [in, out] or
  // [out, in] matrix. One packed copy per layout the weight is read in (W, W^T).
  bool b_packed = false;
};

// [..., m, k] x [..., k, n] -> [..., m, n], batch dims broadcast (NumPy rules). Operands are
// read through their strides: a transposed view costs no copy. `bias` (optional, [n], any
// stride) is added to every row inside the same primitive. The result is contiguous.
// With matmul_precision() bf16 (engine/precision.hpp) the operands are rounded to bf16 and the
// product accumulates in fp32.
Tensor matmul_forward(const Tensor& a, const Tensor& b, const Tensor& bias = Tensor(),
                      KeepOperands keep = {});
// The sums of g's columns (g dense [rows, n]: a linear layer's output gradient; the sums are its
// bias gradient). With bf16 products it also makes g's kept bf16 copy (KeepOperands::a_bf16) in
// the same pass, for the products that read g next; otherwise it is a plain sum.
Tensor column_sums_keeping_bf16(const Tensor& g);
// The view of `t` with its last two axes swapped (shares storage, no autograd).
Tensor matrix_transpose_view(const Tensor& t);
// How many operands matmul_forward has copied to dense memory on this thread because oneDNN
// could not read their strides: tests use it to show that transposed views never are.
int64_t matmul_operand_copies();
// How many operands bf16 products have rounded to bf16 on this thread (a kept copy reused counts
// none): tests use it to show that kept copies are reused, and that bf16 ran at all.
int64_t matmul_bf16_conversions();
// How many weights products have packed on this thread (a packed copy reused counts none).
int64_t matmul_weight_packs();

}  // namespace mmx::kernels
