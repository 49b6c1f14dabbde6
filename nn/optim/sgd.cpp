#include "nn/optim/sgd.hpp"

#include "engine/error.hpp"

namespace mmx::nn {

SGD::SGD(NamedTensors parameters, float learning_rate, float momentum)
    : Optimizer(std::move(parameters), learning_rate), momentum_(momentum) {
  MMX_CHECK(momentum >= 0.0f && momentum < 1.0f, "SGD: momentum must be in [0, 1), got ", momentum);
  velocity_ = add_buffer("momentum");
}

void SGD::update(size_t index, Tensor& parameter, const Tensor& grad) {
  const float lr = learning_rate(), mu = momentum_;
  float* w = parameter.data();
  float* buf = velocity_[index].data();
  const float* g = grad.data();
  const int64_t n = parameter.numel();
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    buf[i] = mu * buf[i] + g[i];
    w[i] -= lr * buf[i];
  }
}

}  // namespace mmx::nn
