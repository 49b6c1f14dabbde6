/// \file
/// SGD with (heavy-ball) momentum, as torch.optim.SGD: buf = momentum * buf + g; w -= lr * buf.
#pragma once

#include "nn/optim/optimizer.hpp"

namespace mmx::nn {

/// Stochastic gradient descent with heavy-ball momentum.
class SGD : public Optimizer {
 public:
  /// `momentum` in [0, 1); 0 is plain SGD.
  SGD(NamedTensors parameters, float learning_rate, float momentum = 0.0f);

  /// The momentum factor.
  float momentum() const { return momentum_; }

 private:
  void update(size_t index, Tensor& parameter, const Tensor& grad) override;

  float momentum_;
  std::vector<Tensor> velocity_;  ///< state "momentum.<name>"
};

}  // namespace mmx::nn
