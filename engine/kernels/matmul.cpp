// What the matmul kernels decide themselves: the product's shape, empty products, the transposed
// view. The products run on oneDNN (kernels/dnnl/dnnl_matmul.cpp).
#include "engine/kernels/matmul.hpp"

#include <utility>

#include "engine/error.hpp"
#include "engine/kernels/dnnl/dnnl_kernels.hpp"
#include "engine/kernels/reduce.hpp"
#include "engine/precision.hpp"

namespace mmx::kernels {

namespace {

// The output shape of a [..., m, k] x [..., k, n] product, checked; `op` names the caller.
Shape product_shape(const Tensor& a, const Tensor& b, const char* op) {
  MMX_CHECK(a.dim() >= 2 && b.dim() >= 2, op, ": need operands of rank >= 2, got ",
            to_string(a.shape()), " x ", to_string(b.shape()));
  MMX_CHECK(b.size(-2) == a.size(-1), op, ": inner dims differ: ", to_string(a.shape()), " x ",
            to_string(b.shape()));
  Shape out = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                               Shape(b.shape().begin(), b.shape().end() - 2), op);
  out.push_back(a.size(-2));
  out.push_back(b.size(-1));
  return out;
}

// A zero-sized inner dimension: every output is the bias (or 0); oneDNN is not asked.
Tensor empty_sum(const Shape& out_shape, const Tensor& bias) {
  Tensor out = Tensor::zeros(out_shape);
  if (!bias.defined() || out.numel() == 0) return out;
  const int64_t n = out_shape.back();
  for (int64_t row = 0; row < out.numel() / n; ++row)
    for (int64_t j = 0; j < n; ++j) out.data()[row * n + j] = bias.data()[j * bias.strides()[0]];
  return out;
}

}  // namespace

int64_t matmul_operand_copies() {
  return dnnl_matmul_operand_copies();
}

Tensor matrix_transpose_view(const Tensor& t) {
  MMX_CHECK(t.dim() >= 2, "transpose: need a matrix, got shape ", to_string(t.shape()));
  Shape shape = t.shape();
  Shape strides = t.strides();
  std::swap(shape[shape.size() - 1], shape[shape.size() - 2]);
  std::swap(strides[strides.size() - 1], strides[strides.size() - 2]);
  return Tensor::view_of(t, shape, strides, t.offset());
}

Tensor column_sums_keeping_bf16(const Tensor& g) {
  MMX_CHECK(g.dim() == 2 && g.is_contiguous(), "column sums: need a dense matrix, got shape ",
            to_string(g.shape()));
  if (matmul_precision() == MatmulPrecision::bf16 && g.numel() > 0) {
    Tensor sums = Tensor::empty({g.size(1)});
    if (dnnl_keep_bf16_summing_columns(g, sums.data())) return sums;
  }
  return sum_forward(g, {0}, /*keepdim=*/false);
}

int64_t matmul_bf16_conversions() {
  return dnnl_matmul_bf16_conversions();
}

int64_t matmul_weight_packs() {
  return dnnl_matmul_weight_packs();
}

Tensor matmul_forward(const Tensor& a, const Tensor& b, const Tensor& bias, KeepOperands keep) {
  const Shape out_shape = product_shape(a, b, "matmul");
  const int64_t n = out_shape.back();
  MMX_CHECK(!bias.defined() || bias.shape() == Shape{n}, "matmul: bias of shape ",
            to_string(bias.shape()), " for an output with ", n, " columns");
  if (numel(out_shape) == 0 || a.size(-1) == 0) return empty_sum(out_shape, bias);
  Tensor out = Tensor::empty(out_shape);
  dnnl_matmul(a, b, bias, out, matmul_precision(), keep);
  return out;
}

}  // namespace mmx::kernels
