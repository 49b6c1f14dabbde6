// The Tensor's shortcuts to ops (reshape, transpose, ... and the arithmetic operators): declared
// with the Tensor, defined here, in the layer that owns the ops, so that the tensor layer below
// needs nothing of theirs.
#include "engine/ops.hpp"
#include "engine/tensor.hpp"

namespace mmx {

Tensor Tensor::reshape(const Shape& s) const {
  return mmx::reshape(*this, s);
}
Tensor Tensor::permute(const Shape& axes) const {
  return mmx::permute(*this, axes);
}
Tensor Tensor::transpose(int64_t a, int64_t b) const {
  return mmx::transpose(*this, a, b);
}
Tensor Tensor::slice(int64_t axis, int64_t start, int64_t end) const {
  return mmx::slice(*this, axis, start, end);
}
Tensor Tensor::expand(const Shape& s) const {
  return mmx::expand(*this, s);
}
Tensor Tensor::contiguous() const {
  return mmx::contiguous(*this);
}

Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
Tensor operator+(const Tensor& a, float b) {
  return add(a, b);
}
Tensor operator-(const Tensor& a, float b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, float b) {
  return mul(a, b);
}
Tensor operator/(const Tensor& a, float b) {
  return div(a, b);
}
Tensor operator+(float a, const Tensor& b) {
  return add(b, a);
}
Tensor operator-(float a, const Tensor& b) {
  return add(neg(b), a);
}
Tensor operator*(float a, const Tensor& b) {
  return mul(b, a);
}
Tensor operator-(const Tensor& a) {
  return neg(a);
}

}  // namespace mmx
