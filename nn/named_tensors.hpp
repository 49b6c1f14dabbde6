// NamedTensors: ordered (name, tensor) pairs, the currency of state dicts and optimizer state,
// and the one all-or-nothing copy that loading either of them goes through.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.hpp"

namespace mmx::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Copies each of `source` into the same-named tensor of `destination`, in place and without
// autograd. The names must match one to one and the shapes must agree; otherwise nothing is
// written and an mmx::Error starting with `what` names the offending tensor.
void copy_named_tensors(const NamedTensors& destination, const NamedTensors& source,
                        const char* what);

}  // namespace mmx::nn
