/// \file
/// Dropout: inverted dropout while training, the identity in eval mode or when p is 0. It draws
/// from a Generator the model owns, so a checkpoint can save and restore the stream.
#pragma once

#include "engine/random.hpp"
#include "nn/module.hpp"

namespace mmx::nn {

/// Inverted dropout with probability p (see the file comment).
class Dropout : public Module {
 public:
  /// Draws its masks from `gen`, which must outlive the layer.
  Dropout(float p, Generator& gen);

  /// x with each element zeroed with probability p and the rest scaled by 1 / (1 - p); x itself in
  /// eval mode.
  Tensor forward(const Tensor& x) const;
  /// Whether forward changes anything now: training, with p > 0.
  bool active() const { return p_ > 0.0f && is_training(); }

 private:
  float p_;
  Generator* gen_;
};

}  // namespace mmx::nn
