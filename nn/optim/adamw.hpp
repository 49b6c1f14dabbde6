/// \file
/// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, applied only to parameters of
/// two or more dims (matrices, embeddings); biases, norms and MultiMax parameters get none.
#pragma once

#include "nn/optim/optimizer.hpp"

namespace mmx::nn {

/// AdamW's hyperparameters (PyTorch's names and meanings).
struct AdamWOptions {
  /// the step size before any schedule
  float learning_rate = 1e-3f;
  /// decay of the first-moment average
  float beta1 = 0.9f;
  /// decay of the second-moment average
  float beta2 = 0.95f;
  /// added to the root of the second moment
  float eps = 1e-8f;
  /// decoupled decay, applied where receives_weight_decay() says
  float weight_decay = 0.1f;
  /// MultiMax's t and r step at this multiple of learning_rate. Why: Adam moves a parameter
  /// by at most about the learning rate per step, and the breakpoints r must travel to where
  /// the scores lie (several units) within a short run.
  float multimax_lr_scale = 1.0f;
};

/// MultiMax's modulator parameters, by name: "...multimax.t" and "...multimax.r".
bool is_multimax_parameter(const std::string& name);

/// Matrices and embeddings decay; vectors (biases, norm scales) and MultiMax's t and r (named
/// "...multimax.t/r", [H, 4] when per head) do not: decay would pull MultiMax back to SoftMax.
bool receives_weight_decay(const std::string& name, const Tensor& parameter);

/// Adam with decoupled weight decay (see the file comment).
class AdamW : public Optimizer {
 public:
  /// Optimises `parameters` (usually a module's named_parameters()).
  AdamW(NamedTensors parameters, const AdamWOptions& options);

  /// The hyperparameters it was built with.
  const AdamWOptions& options() const { return options_; }

 private:
  void update(size_t index, Tensor& parameter, const Tensor& grad) override;

  AdamWOptions options_;
  std::vector<Tensor> first_moment_;   ///< state "m.<name>"
  std::vector<Tensor> second_moment_;  ///< state "v.<name>"
  std::vector<bool> decays_;
  std::vector<float> lr_scales_;  ///< per parameter: multimax_lr_scale or 1
};

}  // namespace mmx::nn
