// matmul and linear: forward on the oneDNN matmul kernel, backward through the same kernel on
// transposed views (dA = dC.B^T, dB = A^T.dC), so no operand is ever copied to be transposed; a
// weight's gradient, and that of a folded product's right operand, through kernels::rows_product.
#include "engine/kernels/matmul.hpp"
#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/kernels/elementwise.hpp"
#include "engine/kernels/rows_product.hpp"
#include "engine/ops.hpp"

namespace mmx {

namespace {

// The [rows, last] view of t when its leading axes fold into one by strides alone (any
// contiguous tensor, many views); undefined otherwise.
Tensor rows_view(const Tensor& t) {
  const Shape& shape = t.shape();
  const Shape& strides = t.strides();
  const int64_t last = shape.empty() ? 1 : shape.back();
  const int64_t last_stride = shape.empty() ? 1 : strides.back();
  int64_t rows = 1, row_stride = 0;
  for (size_t d = shape.size() > 0 ? shape.size() - 1 : 0; d-- > 0;) {
    if (shape[d] == 1) continue;
    if (rows == 1)
      row_stride = strides[d];
    else if (strides[d] != row_stride * rows)
      return Tensor();
    rows *= shape[d];
  }
  if (rows == 1) row_stride = last * std::max<int64_t>(last_stride, 1);
  return Tensor::view_of(t, {rows, last}, {row_stride, last_stride}, t.offset());
}

// A contiguous tensor seen with another shape of the same size.
Tensor with_shape(const Tensor& dense, const Shape& shape) {
  return Tensor::view_of(dense, shape, contiguous_strides(shape), dense.offset());
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  MMX_CHECK(a.dim() >= 2 && b.dim() >= 2, "matmul: need operands of rank >= 2, got ",
            to_string(a.shape()), " x ", to_string(b.shape()));
  MMX_CHECK(a.size(-1) == b.size(-2), "matmul: inner dims differ: ", to_string(a.shape()), " x ",
            to_string(b.shape()));
  // A batch of matrices times one matrix is one taller product: fold the batch into rows. Its
  // backward then gets dB as one product instead of a batch to sum.
  const Tensor a_rows = b.dim() == 2 && a.dim() > 2 ? rows_view(a) : Tensor();
  Tensor y = a_rows.defined()
                 ? with_shape(kernels::matmul_forward(a_rows, b), with_last(a.shape(), b.size(-1)))
                 : kernels::matmul_forward(a, b);
  if (autograd::needs_grad({a, b})) {
    autograd::record("matmul", {a, b}, y, {a, b}, [a, b, a_rows](const Tensor& gy) {
      const Tensor b_t = kernels::matrix_transpose_view(b);
      Tensor ga, gb;
      if (a_rows.defined()) {  // the folded product: gy is [rows, n] as well
        const Tensor gy_rows = with_shape(gy, {a_rows.size(0), gy.size(-1)});
        if (a.requires_grad()) ga = with_shape(kernels::matmul_forward(gy_rows, b_t), a.shape());
        if (b.requires_grad()) gb = kernels::rows_product(a_rows, gy_rows);
      } else {
        // Broadcast batch axes come back at the output's size; the tape sums them down.
        if (a.requires_grad()) ga = kernels::matmul_forward(gy, b_t);
        if (b.requires_grad()) gb = kernels::matmul_forward(kernels::matrix_transpose_view(a), gy);
      }
      return std::vector<Tensor>{ga, gb};
    });
  }
  return y;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  MMX_CHECK(weight.dim() == 2 && x.dim() >= 1 && x.size(-1) == weight.size(1), "linear: input ",
            to_string(x.shape()), " does not fit weight ", to_string(weight.shape()),
            " ([out, in])");
  const int64_t out_features = weight.size(0);
  MMX_CHECK(!bias.defined() || bias.shape() == Shape{out_features}, "linear: bias of shape ",
            to_string(bias.shape()), " for weight ", to_string(weight.shape()));
  Tensor x_rows = rows_view(x);
  if (!x_rows.defined()) x_rows = rows_view(kernels::contiguous_copy(x));
  // The weight is packed for the product until the optimizer changes it. In bf16, what the
  // weight's gradient reads of x (its row pairs, or with AMX its bf16 copy) is made now from the
  // bf16 copy the product made, while it is in the caches, and kept (the tape saves x_rows,
  // unchanged until the backward).
  const bool recorded = autograd::needs_grad({x, weight, bias});
  const Tensor y_rows = kernels::matmul_forward(x_rows, kernels::matrix_transpose_view(weight),
                                                bias, {.b_packed = true});
  if (recorded && weight.requires_grad()) kernels::keep_for_rows_product(x_rows);
  Tensor y = with_shape(y_rows, with_last(x.shape(), out_features));
  if (recorded) {
    const Shape x_shape = x.shape();
    autograd::record(
        "linear", {x, weight, bias}, y, {x_rows, weight},
        [x_rows, weight, x_shape, x_grad = x.requires_grad(),
         bias_grad = bias.requires_grad()](const Tensor& gy) {
          const Tensor gy_rows = with_shape(gy, {x_rows.size(0), gy.size(-1)});
          Tensor gx, gw, gb;
          // gy's bf16 copy serves both products; in bf16 the bias's sums are taken while it is
          // made. With no product to read it (a frozen layer's bias), no copy.
          const bool products = x_grad || weight.requires_grad();
          if (bias_grad)
            gb = products ? kernels::column_sums_keeping_bf16(gy_rows) : sum(gy_rows, {0});
          if (x_grad)
            gx = with_shape(kernels::matmul_forward(gy_rows, weight, Tensor(),
                                                    {.a_bf16 = true, .b_packed = true}),
                            x_shape);
          if (weight.requires_grad())
            gw = kernels::rows_product(gy_rows, x_rows, {.a_bf16 = true, .b_bf16 = true});
          return std::vector<Tensor>{gx, gw, gb};
        });
  }
  return y;
}

}  // namespace mmx
