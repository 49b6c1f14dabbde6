// Dense kernels that run on oneDNN primitives (matmul, softmax, log-softmax, layer norm), declared
// without oneDNN so ops include only this. Raw float math on Tensors, no autograd.
#pragma once

#include "engine/tensor.hpp"

namespace mmx::kernels {

// --------------------------------------------------------------- matmul (dnnl_matmul.cpp)
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

// --------------------------------------------------------------- softmax (dnnl_softmax.cpp)
// Over the last axis; x of any strides, results contiguous.
Tensor softmax_forward(const Tensor& x);
Tensor softmax_backward(const Tensor& y, const Tensor& gy);  // y = softmax(x)
Tensor log_softmax_forward(const Tensor& x);
Tensor log_softmax_backward(const Tensor& y, const Tensor& gy);  // y = log_softmax(x)

// --------------------------------------------------------------- layer norm (dnnl_layer_norm.cpp)
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
