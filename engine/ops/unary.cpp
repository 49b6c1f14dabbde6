// Elementwise activations: exp, log, sqrt, pow, tanh, relu, gelu (tanh and exact forms).
// Forward and backward both run on oneDNN eltwise primitives (kernels/elementwise.hpp).
#include "engine/autograd/tape.hpp"
#include "engine/kernels/elementwise.hpp"
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

Tensor exp(const Tensor& x) { return eltwise_op("exp", Eltwise::Exp, x); }
Tensor log(const Tensor& x) { return eltwise_op("log", Eltwise::Log, x); }
Tensor sqrt(const Tensor& x) { return eltwise_op("sqrt", Eltwise::Sqrt, x); }
Tensor pow(const Tensor& x, float exponent) { return eltwise_op("pow", Eltwise::Pow, x, exponent); }
Tensor tanh(const Tensor& x) { return eltwise_op("tanh", Eltwise::Tanh, x); }
Tensor relu(const Tensor& x) { return eltwise_op("relu", Eltwise::Relu, x); }

Tensor gelu(const Tensor& x, GeluForm form) {
  return form == GeluForm::Tanh ? eltwise_op("gelu", Eltwise::GeluTanh, x)
                                : eltwise_op("gelu", Eltwise::GeluExact, x);
}

}  // namespace mmx
