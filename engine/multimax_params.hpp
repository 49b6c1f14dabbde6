/// \file
/// MultiMaxParams: one MultiMax's (t, r, order), the one type that carries them from the model's
/// parameters (nn::MultiMaxParameters) through the ops (multimax, causal_self_attention) to the
/// kernels. It sits beside the tensor so that every layer above can name it.
#pragma once

#include "engine/tensor.hpp"

namespace mmx {

/// The parameters of sigma(x) = x + t0 relu(r0 - x) + t1 relu(x - r1) + t2 relu(r2 - x)^2
/// + t3 relu(x - r3)^2, each of shape [4] (per layer) or [H, 4] (per head, for an input of
/// shape [.., H, T, S]). Order 1 reads t[0..1], r[0..1] only.
struct MultiMaxParams {
  /// temperatures t0..t3
  Tensor t;
  /// breakpoints r0..r3
  Tensor r;
  /// 1 (linear terms) or 2 (also the squared terms)
  int order = 2;
};

}  // namespace mmx
