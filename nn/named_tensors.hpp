/// \file
/// NamedTensors: ordered (name, tensor) pairs, the currency of state dicts and optimizer state,
/// and the one all-or-nothing copy that loading either of them goes through.
#pragma once

#include "engine/io/safetensors.hpp"

namespace mmx::nn {

/// The same ordered pairs that safetensors files hold, so a state dict saves as is.
using NamedTensors = io::NamedTensors;

/// Copies each of `source` into the same-named tensor of `destination`, in place and without
/// autograd. The names must match one to one and the shapes must agree; otherwise nothing is
/// written and an mmx::Error starting with `what` names the offending tensor.
void copy_named_tensors(const NamedTensors& destination, const NamedTensors& source,
                        const char* what);

}  // namespace mmx::nn
