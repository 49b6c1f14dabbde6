/// \file
/// Parameter initialisers shared by the layers: PyTorch's defaults (so a model starts where the
/// PyTorch reference starts) and the truncated normal used for MultiMax parameters.
#pragma once

#include "engine/random.hpp"
#include "engine/tensor.hpp"

namespace mmx::nn {

/// N(0, std^2) with every draw outside +-2 std redrawn.
Tensor truncated_normal(const Shape& shape, Generator& gen, float std);
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)): nn.Linear's default for weight and bias.
Tensor fan_in_uniform(const Shape& shape, int64_t fan_in, Generator& gen);

}  // namespace mmx::nn
