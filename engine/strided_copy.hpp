// Copying a strided view into dense memory: what to_vector(), copy_() and contiguous() share.
// Part of the tensor layer, so that the Tensor itself needs no kernel. A naive element walk
// beside the fast row-wise version.
#pragma once

#include "engine/tensor.hpp"

namespace mmx {

// Writes the elements of `src` (any strides) in row-major order to `dst` (contiguous, same numel).
void copy_strided(const Tensor& src, float* dst);
void copy_strided_naive(const Tensor& src, float* dst);

}  // namespace mmx
