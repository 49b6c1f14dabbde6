/// \file
/// Embedding: a lookup table [vocab, dim] indexed by token ids. Parameter "weight", initialised
/// N(0, 1) like nn.Embedding.
#pragma once

#include <vector>

#include "engine/random.hpp"
#include "nn/module.hpp"

namespace mmx::nn {

/// A learned table [vocab, dim] indexed by token ids.
class Embedding : public Module {
 public:
  /// Draws the initial table from `gen`.
  Embedding(int64_t vocab, int64_t dim, Generator& gen);

  /// ids laid out as `ids_shape` -> [...ids_shape, dim].
  Tensor forward(const std::vector<int64_t>& ids, const Shape& ids_shape) const;

  /// The table [vocab, dim].
  const Tensor& weight() const { return weight_; }

 private:
  Tensor weight_;
};

}  // namespace mmx::nn
