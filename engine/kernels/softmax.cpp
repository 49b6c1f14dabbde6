// What the softmax kernels check themselves; oneDNN's softmax and logsoftmax primitives compute
// (kernels/dnnl/dnnl_softmax.cpp).
#include "engine/kernels/softmax.hpp"

#include "engine/error.hpp"
#include "engine/kernels/dnnl/dnnl_kernels.hpp"

namespace mmx::kernels {

namespace {

void check_input(const char* name, const Tensor& x) {
  MMX_CHECK(x.dim() >= 1, name, ": needs at least one axis, got a scalar");
}

void check_gradient(const char* name, const Tensor& y, const Tensor& gy) {
  MMX_CHECK(y.shape() == gy.shape(), name, " backward: output ", to_string(y.shape()),
            " and gradient ", to_string(gy.shape()), " differ in shape");
}

}  // namespace

Tensor softmax_forward(const Tensor& x) {
  check_input("softmax", x);
  return dnnl_softmax_forward(x);
}

Tensor softmax_backward(const Tensor& y, const Tensor& gy) {
  check_gradient("softmax", y, gy);
  return dnnl_softmax_backward(y, gy);
}

Tensor log_softmax_forward(const Tensor& x) {
  check_input("log_softmax", x);
  return dnnl_log_softmax_forward(x);
}

Tensor log_softmax_backward(const Tensor& y, const Tensor& gy) {
  check_gradient("log_softmax", y, gy);
  return dnnl_log_softmax_backward(y, gy);
}

}  // namespace mmx::kernels
