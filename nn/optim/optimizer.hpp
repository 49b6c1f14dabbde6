/// \file
/// Optimizer: the common face of AdamW and SGD. It holds the named parameters, the learning rate
/// (a schedule sets it every step), the step count, and exposes its state for checkpoints.
#pragma once

#include <cstdint>

#include "nn/named_tensors.hpp"

namespace mmx::nn {

/// The common base of AdamW and SGD (see the file comment).
class Optimizer {
 public:
  /// Holds the parameters (handles sharing their storage) and the starting learning rate.
  Optimizer(NamedTensors parameters, float learning_rate);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// One update from the current gradients, in place under NoGrad. Parameters without a
  /// gradient are left alone.
  void step();
  /// Drops the gradient of every parameter.
  void zero_grad();

  /// The rate the next step() uses.
  float learning_rate() const { return learning_rate_; }
  /// Sets the rate of the next steps (a schedule calls it every step).
  void set_learning_rate(float lr) { learning_rate_ = lr; }
  /// The number of step() calls so far.
  int64_t step_count() const { return step_count_; }

  /// "step" plus the per-parameter buffers named "<buffer>.<parameter name>".
  NamedTensors state_tensors() const;
  /// All or nothing: every name and shape must match what state_tensors() returns.
  void load_state_tensors(const NamedTensors& state);

 protected:
  /// Updates parameter `index` given its (contiguous) gradient; step_count() already counts
  /// this step.
  virtual void update(size_t index, Tensor& parameter, const Tensor& grad) = 0;
  /// Adds one zero buffer per parameter, named "<buffer>.<parameter name>"; returns them.
  std::vector<Tensor> add_buffer(const std::string& buffer);

  /// what step() updates, in order
  NamedTensors parameters_;

 private:
  float learning_rate_;
  int64_t step_count_ = 0;
  NamedTensors buffers_;
};

}  // namespace mmx::nn
