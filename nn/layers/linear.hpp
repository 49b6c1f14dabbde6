/// \file
/// Linear: y = x W^T + b with W [out, in], one fused matmul. Parameters "weight" and, unless
/// disabled, "bias"; both start as nn.Linear's default U(+-1/sqrt(in)).
#pragma once

#include "engine/random.hpp"
#include "nn/module.hpp"

namespace mmx::nn {

/// A fully connected layer y = x W^T + b.
class Linear : public Module {
 public:
  /// Weight [out, in] (and bias [out]) drawn from `gen` with PyTorch's default initialisation.
  Linear(int64_t in_features, int64_t out_features, Generator& gen, bool bias = true);

  Tensor forward(const Tensor& x) const;  ///< [..., in] -> [..., out]

  /// W, [out, in].
  const Tensor& weight() const { return weight_; }
  /// b, [out]; undefined without bias.
  const Tensor& bias() const { return bias_; }  ///< undefined without bias

 private:
  Tensor weight_;
  Tensor bias_;
};

}  // namespace mmx::nn
