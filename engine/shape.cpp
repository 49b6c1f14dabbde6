#include "engine/shape.hpp"

#include "engine/error.hpp"

namespace mmx {

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

Shape with_last(Shape shape, int64_t last) {
  shape.back() = last;
  return shape;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t dim = std::max(a.size(), b.size());
  Shape out(dim);
  for (size_t i = 0; i < dim; ++i) {
    const int64_t sa = i < dim - a.size() ? 1 : a[i - (dim - a.size())];
    const int64_t sb = i < dim - b.size() ? 1 : b[i - (dim - b.size())];
    MMX_CHECK(sa == sb || sa == 1 || sb == 1, op, ": shapes do not broadcast: ", to_string(a),
              " and ", to_string(b));
    out[i] = sa == 1 ? sb : sa;
  }
  return out;
}

int64_t wrap_axis(int64_t axis, int64_t dim, const char* op) {
  MMX_CHECK(axis >= -dim && axis < dim, op, ": axis ", axis, " out of range for a ", dim,
            "-d tensor");
  return axis < 0 ? axis + dim : axis;
}

std::string to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace mmx
