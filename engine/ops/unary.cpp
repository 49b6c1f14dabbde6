// Elementwise activations: exp, log, sqrt, pow, tanh, relu, gelu (tanh and exact forms).
// Forward and backward run on oneDNN eltwise primitives (kernels/elementwise.hpp), except the
// exact GELU (kernels/gelu.hpp).
#include "engine/autograd/tape.hpp"
#include "engine/kernels/elementwise.hpp"
#include "engine/kernels/gelu.hpp"
#include "engine/ops.hpp"

namespace mmx {

namespace {

using kernels::Eltwise;

// One op = one eltwise kind. Backward reads x (oneDNN's backward is written in terms of src).
Tensor eltwise_op(const char* op, Eltwise kind, const Tensor& x, float alpha = 0.0f) {
  Tensor y = kernels::eltwise_forward(kind, x, alpha);
  if (autograd::needs_grad({x})) {
    const Tensor x_saved = x.detach();
    autograd::record(op, {x}, y, {x_saved}, [kind, alpha, x_saved](const Tensor& gy) {
      return std::vector<Tensor>{kernels::eltwise_backward(kind, x_saved, gy, alpha)};
    });
  }
  return y;
}

}  // namespace

Tensor exp(const Tensor& x) {
  return eltwise_op("exp", Eltwise::Exp, x);
}
Tensor log(const Tensor& x) {
  return eltwise_op("log", Eltwise::Log, x);
}
Tensor sqrt(const Tensor& x) {
  return eltwise_op("sqrt", Eltwise::Sqrt, x);
}
Tensor pow(const Tensor& x, float exponent) {
  return eltwise_op("pow", Eltwise::Pow, x, exponent);
}
Tensor tanh(const Tensor& x) {
  return eltwise_op("tanh", Eltwise::Tanh, x);
}
Tensor relu(const Tensor& x) {
  return eltwise_op("relu", Eltwise::Relu, x);
}

// Exact GELU keeps its slope from the forward pass instead of x: the backward is then one
// multiply (see kernels/gelu.hpp), and the memory kept is the same one tensor.
Tensor gelu(const Tensor& x, GeluForm form) {
  if (form == GeluForm::Tanh) return eltwise_op("gelu", Eltwise::GeluTanh, x);
  if (!autograd::needs_grad({x})) return kernels::gelu_exact_forward(x);
  kernels::GeluWithSlope g = kernels::gelu_exact_with_slope(x);
  const Tensor slope = g.slope;
  autograd::record("gelu", {x}, g.y, {slope}, [slope](const Tensor& gy) {
    // Over gy when the tape holds no other handle on it: one activation-sized tensor fewer.
    return std::vector<Tensor>{kernels::gelu_exact_backward(gy, slope, autograd::reusable(gy))};
  });
  return g.y;
}

}  // namespace mmx
