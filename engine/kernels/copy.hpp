// Copying a strided view into contiguous memory: the kernel behind contiguous(), cat and every
// op that needs dense input. A naive element walk beside a fast row-wise version.
#pragma once

#include "engine/tensor.hpp"

namespace mmx::kernels {

// Writes the elements of `src` (any strides) in row-major order to `dst` (contiguous, same numel).
void copy_strided(const Tensor& src, float* dst);
void copy_strided_naive(const Tensor& src, float* dst);

}  // namespace mmx::kernels
