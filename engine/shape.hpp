/// \file
/// Shapes and strides: element counts, row-major strides, NumPy broadcasting, axis wrapping.
/// Plain functions on std::vector<int64_t>, shared by the tensor, the ops and the kernels.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace mmx {

/// Sizes (or strides) per axis, outermost first.
using Shape = std::vector<int64_t>;

/// The number of elements: the product of the sizes (1 for a 0-d shape).
int64_t numel(const Shape& shape);
/// Row-major strides, in elements, of a dense tensor of this shape.
Shape contiguous_strides(const Shape& shape);
/// `shape` with its last size replaced by `last` (a shape of rank >= 1).
Shape with_last(Shape shape, int64_t last);
/// NumPy rules: align from the right, sizes must match or be 1. Throws naming `op`.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
///@{
/// Accepts -dim..dim-1; throws "op: axis 5 out of range for a 3-d tensor".
int64_t wrap_axis(int64_t axis, int64_t dim, const char* op);
std::string to_string(const Shape& shape);  ///< "[2, 3]"
///@}

/// The offset (in elements) of element number `linear`, counted in row-major order over `shape`,
/// in a view with `strides`: a random-access twin of for_each_offset.
inline int64_t offset_of(int64_t linear, const Shape& shape, const Shape& strides) {
  int64_t offset = 0;
  for (size_t d = shape.size(); d-- > 0;) {
    offset += (linear % shape[d]) * strides[d];
    linear /= shape[d];
  }
  return offset;
}

/// Calls f(offset) for every element of a strided view, in row-major order; `offset` is in
/// elements from the view's first element. The plain loop behind copies and printing.
template <typename F>
void for_each_offset(const Shape& shape, const Shape& strides, F&& f) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  if (n == 0) return;
  std::vector<int64_t> index(shape.size(), 0);
  int64_t offset = 0;
  for (int64_t k = 0; k < n; ++k) {
    f(offset);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++index[d] < shape[d]) {
        offset += strides[d];
        break;
      }
      offset -= strides[d] * (shape[d] - 1);
      index[d] = 0;
    }
  }
}

}  // namespace mmx
