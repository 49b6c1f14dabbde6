// layer_norm over the last axis with optional weight and bias: oneDNN's forward saves each row's
// mean and variance; our backward (kernels/layer_norm.cpp) uses them for dx, dweight and dbias.
#include "engine/kernels/layer_norm.hpp"
#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/ops.hpp"

namespace mmx {

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  MMX_CHECK(eps > 0.0f, "layer_norm: eps must be positive, got ", eps);
  kernels::LayerNormForward f = kernels::layer_norm_forward(x, weight, bias, eps);
  Tensor y = f.y;
  if (autograd::needs_grad({x, weight, bias})) {
    std::vector<Tensor> saved{x};
    if (weight.defined()) saved.push_back(weight);
    autograd::record(
        "layer_norm", {x, weight, bias}, y, saved,
        [x, weight, bias, mean = f.mean, variance = f.variance, eps](const Tensor& gy) {
          kernels::LayerNormBackward g =
              kernels::layer_norm_backward(x, weight, bias, mean, variance, gy, eps);
          return std::vector<Tensor>{g.dx, g.dweight, g.dbias};
        });
  }
  return y;
}

}  // namespace mmx
