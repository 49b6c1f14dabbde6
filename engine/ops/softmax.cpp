// softmax and log_softmax over the last axis: oneDNN forward, and oneDNN backward from the saved
// output (softmax: dx = y*(g - sum(g*y)); log_softmax: dx = g - exp(y)*sum(g)).
#include "engine/kernels/softmax.hpp"
#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/ops.hpp"

namespace mmx {

Tensor softmax(const Tensor& x) {
  MMX_CHECK(x.dim() >= 1, "softmax: needs at least one axis, got shape ", to_string(x.shape()));
  Tensor y = kernels::softmax_forward(x);
  if (autograd::needs_grad({x}))
    autograd::record("softmax", {x}, y, {y}, [y](const Tensor& gy) {
      return std::vector<Tensor>{kernels::softmax_backward(y, gy)};
    });
  return y;
}

Tensor log_softmax(const Tensor& x) {
  MMX_CHECK(x.dim() >= 1, "log_softmax: needs at least one axis, got shape ", to_string(x.shape()));
  Tensor y = kernels::log_softmax_forward(x);
  if (autograd::needs_grad({x}))
    autograd::record("log_softmax", {x}, y, {y}, [y](const Tensor& gy) {
      return std::vector<Tensor>{kernels::log_softmax_backward(y, gy)};
    });
  return y;
}

}  // namespace mmx
