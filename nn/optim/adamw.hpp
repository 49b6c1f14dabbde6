// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, applied only to parameters of
// two or more dims (matrices, embeddings); biases, norms and MultiMax parameters get none.
#pragma once

#include "nn/optim/optimizer.hpp"

namespace mmx::nn {

struct AdamWOptions {
  float learning_rate = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.95f;
  float eps = 1e-8f;
  float weight_decay = 0.1f;
};

// Matrices and embeddings decay; vectors (biases, norm scales) and MultiMax's t and r (named
// "...multimax.t/r", [H, 4] when per head) do not: decay would pull MultiMax back to SoftMax.
bool receives_weight_decay(const std::string& name, const Tensor& parameter);

class AdamW : public Optimizer {
 public:
  AdamW(NamedTensors parameters, const AdamWOptions& options);

  const AdamWOptions& options() const { return options_; }

 private:
  void update(size_t index, Tensor& parameter, const Tensor& grad) override;

  AdamWOptions options_;
  std::vector<Tensor> first_moment_;   // state "m.<name>"
  std::vector<Tensor> second_moment_;  // state "v.<name>"
  std::vector<bool> decays_;
};

}  // namespace mmx::nn
