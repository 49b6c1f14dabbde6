// Dropout: inverted dropout while training, the identity in eval mode or when p is 0. It draws
// from a Generator the model owns, so a checkpoint can save and restore the stream.
#pragma once

#include "engine/random.hpp"
#include "nn/module.hpp"

namespace mmx::nn {

class Dropout : public Module {
 public:
  Dropout(float p, Generator& gen);

  Tensor forward(const Tensor& x) const;

 private:
  float p_;
  Generator* gen_;
};

}  // namespace mmx::nn
