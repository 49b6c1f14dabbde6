/// \file
/// Global gradient-norm clipping, as torch.nn.utils.clip_grad_norm_: when the L2 norm of all
/// gradients together exceeds max_norm, every gradient is scaled by max_norm / (norm + 1e-6).
#pragma once

#include <vector>

#include "engine/tensor.hpp"

namespace mmx::nn {

/// Returns the norm before clipping. Parameters without a gradient are skipped.
float clip_grad_norm(const std::vector<Tensor>& parameters, float max_norm);

}  // namespace mmx::nn
