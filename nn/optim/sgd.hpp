// SGD with (heavy-ball) momentum, as torch.optim.SGD: buf = momentum * buf + g; w -= lr * buf.
#pragma once

#include "nn/optim/optimizer.hpp"

namespace mmx::nn {

class SGD : public Optimizer {
 public:
  SGD(NamedTensors parameters, float learning_rate, float momentum = 0.0f);

  float momentum() const { return momentum_; }

 private:
  void update(size_t index, Tensor& parameter, const Tensor& grad) override;

  float momentum_;
  std::vector<Tensor> velocity_;  // state "momentum.<name>"
};

}  // namespace mmx::nn
