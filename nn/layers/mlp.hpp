/// \file
/// MLP: the transformer's feed-forward part, fc (d -> 4d), exact GELU, out (4d -> d), dropout.
/// Children "fc" and "out" as in the PyTorch reference.
#pragma once

#include "nn/layers/dropout.hpp"
#include "nn/layers/linear.hpp"

namespace mmx::nn {

/// The transformer's feed-forward part (see the file comment).
class MLP : public Module {
 public:
  /// Weights drawn from `init_gen`; dropout masks from `dropout_gen`.
  MLP(int64_t dim, float dropout, Generator& init_gen, Generator& dropout_gen);

  /// [..., dim] -> [..., dim]
  Tensor forward(const Tensor& x) const;

 private:
  Linear fc_;
  Linear out_;
  Dropout dropout_;
};

}  // namespace mmx::nn
