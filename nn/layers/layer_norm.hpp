/// \file
/// LayerNorm over the last axis with a learned scale ("weight", ones) and shift ("bias", zeros).
#pragma once

#include "nn/module.hpp"

namespace mmx::nn {

/// LayerNorm over the last axis (see the file comment).
class LayerNorm : public Module {
 public:
  /// The eps every model's LayerNorms use (PyTorch's default).
  static constexpr float kDefaultEps = 1e-5f;
  /// Normalizes vectors of size `dim`; `eps` is added to the variance.
  explicit LayerNorm(int64_t dim, float eps = kDefaultEps);

  /// [..., dim] -> [..., dim]
  Tensor forward(const Tensor& x) const;

 private:
  Tensor weight_;
  Tensor bias_;
  float eps_;
};

}  // namespace mmx::nn
