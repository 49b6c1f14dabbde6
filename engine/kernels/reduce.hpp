// Reduction kernels: sum over any set of axes, max over one axis (with the index of the first
// maximum, for the gradient). Raw float math, no autograd; a `_naive` reference beside each.
#pragma once

#include <vector>

#include "engine/tensor.hpp"

namespace mmx::kernels {

// Wraps negative axes, sorts them and rejects repeats; empty means every axis. Throws
// "op: axis 5 out of range for a 2-d tensor of shape [2, 3]" and the like.
std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, const Shape& shape,
                                    const char* op);
// The shape after reducing `axes` (normalized): size 1 there with keepdim, else dropped.
Shape reduced_shape(const Shape& shape, const std::vector<int64_t>& axes, bool keepdim);

// Sum over normalized `axes`, any strides in, a contiguous result out.
Tensor sum_forward(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim);
Tensor sum_forward_naive(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim);

struct MaxResult {
  Tensor values;                 // contiguous, reduced shape
  std::vector<int64_t> indices;  // per value, the position along `axis` of the first maximum
};
// Max over one (wrapped) axis. The axis must not be empty.
MaxResult max_forward(const Tensor& x, int64_t axis, bool keepdim);
MaxResult max_forward_naive(const Tensor& x, int64_t axis, bool keepdim);
// Scatters grad_y (contiguous, one value per max) to the first maxima; zeros elsewhere.
Tensor max_backward(const Tensor& grad_y, const std::vector<int64_t>& indices, const Shape& x_shape,
                    int64_t axis);

}  // namespace mmx::kernels
