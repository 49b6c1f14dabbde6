#include "engine/kernels/row_layout.hpp"

#include <algorithm>
#include <cmath>

#include "engine/error.hpp"
#include "engine/kernels/elementwise.hpp"

namespace mmx::kernels {

namespace {

void check_shapes(const char* op, const Tensor& x, const Tensor& mask, bool causal) {
  MMX_CHECK(x.defined(), op, ": input is undefined");
  MMX_CHECK(x.dim() >= 1, op, ": needs at least a 1-d input, got a 0-d tensor");
  MMX_CHECK(!causal || x.dim() >= 2, op, ": causal needs at least 2 axes (queries, keys), got ",
            to_string(x.shape()));
  if (!mask.defined()) return;
  MMX_CHECK(broadcast_shapes(mask.shape(), x.shape(), op) == x.shape(), op, ": mask of shape ",
            to_string(mask.shape()), " does not broadcast to the input's shape ",
            to_string(x.shape()));
}

}  // namespace

int64_t RowLayout::active_cols(int64_t row) const {
  int64_t active = causal ? std::min(cols, row % queries + 1) : cols;
  if (const float* m = mask_row(row))
    while (active > 0 && m[active - 1] == -INFINITY) --active;
  return active;
}

RowLayout row_layout(const char* op, const Tensor& x, const Tensor& mask, bool causal) {
  check_shapes(op, x, mask, causal);
  RowLayout layout;
  layout.cols = x.size(-1);
  layout.rows = layout.cols == 0 ? 0 : x.numel() / layout.cols;
  layout.queries = x.dim() >= 2 ? std::max<int64_t>(x.size(-2), 1) : 1;
  layout.causal = causal;
  if (!mask.defined() || layout.rows == 0) return layout;

  // Materialise the mask with its leading axes as they are (often [1, 1, T, T]) and its last axis
  // at full width, so every row reads a contiguous run; then each of x's rows finds its own.
  Shape mask_shape = mask.shape();
  mask_shape.insert(mask_shape.begin(), x.shape().size() - mask_shape.size(), 1);
  mask_shape.back() = layout.cols;
  const Tensor view = Tensor::view_of(mask.detach(), mask_shape,
                                      broadcast_strides(mask, mask_shape), mask.offset());
  layout.mask = contiguous_copy(view);

  Shape lead_shape(x.shape().begin(), x.shape().end() - 1);
  Shape lead_strides = contiguous_strides(mask_shape);
  lead_strides.pop_back();
  for (size_t d = 0; d < lead_shape.size(); ++d)
    if (mask_shape[d] == 1) lead_strides[d] = 0;
  layout.mask_row_offset.reserve(static_cast<size_t>(layout.rows));
  if (lead_shape.empty()) layout.mask_row_offset.push_back(0);
  for_each_offset(lead_shape, lead_strides,
                  [&](int64_t offset) { layout.mask_row_offset.push_back(offset); });
  return layout;
}

Tensor dense_additive_mask(const char* op, const Tensor& x, const Tensor& mask, bool causal) {
  check_shapes(op, x, mask, causal);
  Tensor dense = Tensor::zeros(x.shape());
  float* out = dense.data();
  if (mask.defined()) {
    const Tensor view = Tensor::view_of(mask.detach(), x.shape(),
                                        broadcast_strides(mask, x.shape()), mask.offset());
    const std::vector<float> values = view.to_vector();
    std::copy(values.begin(), values.end(), out);
  }
  if (causal) {
    const int64_t cols = x.size(-1), queries = x.size(-2);
    for (int64_t k = 0; k < x.numel(); ++k)
      if (k % cols > (k / cols) % queries) out[k] = -INFINITY;
  }
  return dense;
}

}  // namespace mmx::kernels
