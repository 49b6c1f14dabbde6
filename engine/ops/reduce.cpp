// sum and mean over any set of axes, max over one axis. Backward broadcasts the output
// gradient back over the reduced axes (a stride-0 view, no copy); max routes it to the first
// maximal element of each slice.
#include "engine/kernels/reduce.hpp"
#include "engine/autograd/tape.hpp"
#include "engine/kernels/elementwise.hpp"
#include "engine/ops.hpp"

namespace mmx {

namespace {

// gy (contiguous, reduced shape) seen as a tensor of x_shape: stride 0 on the reduced axes.
Tensor spread_over_axes(const Tensor& gy, const Shape& x_shape, const std::vector<int64_t>& axes) {
  Shape strides = contiguous_strides(kernels::reduced_shape(x_shape, axes, true));
  for (int64_t a : axes) strides[static_cast<size_t>(a)] = 0;
  return Tensor::view_of(gy, x_shape, strides, gy.offset());
}

// sum scaled by `scale` (1 for sum, 1/count for mean).
Tensor scaled_sum(const char* op, const Tensor& x, const std::vector<int64_t>& axes_in,
                  bool keepdim, bool average) {
  const std::vector<int64_t> axes = kernels::normalize_axes(axes_in, x.shape(), op);
  int64_t count = 1;
  for (int64_t a : axes) count *= x.shape()[static_cast<size_t>(a)];
  const float scale = average ? 1.0f / static_cast<float>(count) : 1.0f;
  Tensor y = kernels::sum_forward(x, axes, keepdim);
  if (average) y = kernels::eltwise_forward(kernels::Eltwise::Linear, y, scale, 0.0f);
  if (autograd::needs_grad({x})) {
    const Shape x_shape = x.shape();
    autograd::record(op, {x}, y, {}, [x_shape, axes, scale, average](const Tensor& gy) {
      const Tensor spread = spread_over_axes(gy, x_shape, axes);
      return std::vector<Tensor>{
          average ? kernels::eltwise_forward(kernels::Eltwise::Linear, spread, scale, 0.0f)
                  : spread};
    });
  }
  return y;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  return scaled_sum("sum", x, axes, keepdim, false);
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  return scaled_sum("mean", x, axes, keepdim, true);
}

Tensor max(const Tensor& x, int64_t axis, bool keepdim) {
  const int64_t a = kernels::normalize_axes({axis}, x.shape(), "max").front();
  kernels::MaxResult r = kernels::max_forward(x, a, keepdim);
  Tensor y = r.values;
  if (autograd::needs_grad({x})) {
    const Shape x_shape = x.shape();
    autograd::record("max", {x}, y, {},
                     [x_shape, a, indices = std::move(r.indices)](const Tensor& gy) {
                       return std::vector<Tensor>{kernels::max_backward(gy, indices, x_shape, a)};
                     });
  }
  return y;
}

}  // namespace mmx
