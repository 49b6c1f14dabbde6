// MLP: the transformer's feed-forward part, fc (d -> 4d), exact GELU, out (4d -> d), dropout.
// Children "fc" and "out" as in the PyTorch reference.
#pragma once

#include "nn/dropout.hpp"
#include "nn/linear.hpp"

namespace mmx::nn {

class MLP : public Module {
 public:
  MLP(int64_t dim, float dropout, Generator& init_gen, Generator& dropout_gen);

  Tensor forward(const Tensor& x) const;

 private:
  Linear fc_;
  Linear out_;
  Dropout dropout_;
};

}  // namespace mmx::nn
