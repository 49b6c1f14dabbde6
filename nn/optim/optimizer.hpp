// Optimizer: the common face of AdamW and SGD. It holds the named parameters, the learning rate
// (a schedule sets it every step), the step count, and exposes its state for checkpoints.
#pragma once

#include <cstdint>

#include "nn/named_tensors.hpp"

namespace mmx::nn {

class Optimizer {
 public:
  Optimizer(NamedTensors parameters, float learning_rate);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update from the current gradients, in place under NoGrad. Parameters without a
  // gradient are left alone.
  void step();
  void zero_grad();

  float learning_rate() const { return learning_rate_; }
  void set_learning_rate(float lr) { learning_rate_ = lr; }
  int64_t step_count() const { return step_count_; }

  // "step" plus the per-parameter buffers named "<buffer>.<parameter name>".
  NamedTensors state_tensors() const;
  // All or nothing: every name and shape must match what state_tensors() returns.
  void load_state_tensors(const NamedTensors& state);

 protected:
  // Updates parameter `index` given its (contiguous) gradient; step_count() already counts
  // this step.
  virtual void update(size_t index, Tensor& parameter, const Tensor& grad) = 0;
  // Adds one zero buffer per parameter, named "<buffer>.<parameter name>"; returns them.
  std::vector<Tensor> add_buffer(const std::string& buffer);

  NamedTensors parameters_;

 private:
  float learning_rate_;
  int64_t step_count_ = 0;
  NamedTensors buffers_;
};

}  // namespace mmx::nn
