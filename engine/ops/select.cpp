// where(cond, a, b) and masked_fill(x, mask, value). The condition is a mask, not a
// differentiable input: the gradient flows to whichever side each element was taken from.
#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/kernels/elementwise.hpp"
#include "engine/ops.hpp"

namespace mmx {

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  Tensor y = kernels::where_forward(cond, a, b, "where");
  if (autograd::needs_grad({a, b})) {
    const Tensor mask = cond.detach();
    const bool a_grad = a.requires_grad(), b_grad = b.requires_grad();
    autograd::record("where", {cond, a, b}, y, {mask}, [mask, a_grad, b_grad](const Tensor& gy) {
      const Tensor zero = Tensor::scalar(0.0f);
      return std::vector<Tensor>{
          Tensor(), a_grad ? kernels::where_forward(mask, gy, zero, "where") : Tensor(),
          b_grad ? kernels::where_forward(mask, zero, gy, "where") : Tensor()};
    });
  }
  return y;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
  MMX_CHECK(broadcast_shapes(x.shape(), mask.shape(), "masked_fill") == x.shape(),
            "masked_fill: mask of shape ", to_string(mask.shape()),
            " does not broadcast to the input's shape ", to_string(x.shape()));
  Tensor y = kernels::where_forward(mask, Tensor::scalar(value), x, "masked_fill");
  if (autograd::needs_grad({x})) {
    const Tensor saved_mask = mask.detach();
    autograd::record("masked_fill", {x}, y, {saved_mask}, [saved_mask](const Tensor& gy) {
      return std::vector<Tensor>{
          kernels::where_forward(saved_mask, Tensor::scalar(0.0f), gy, "masked_fill")};
    });
  }
  return y;
}

}  // namespace mmx
