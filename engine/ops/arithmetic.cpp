// add, sub, mul, div (tensor-tensor with NumPy broadcasting, and tensor-scalar) and neg.
// Gradients may keep the broadcast shape: the tape sums them down to each input's shape.
#include "engine/autograd/tape.hpp"
#include "engine/kernels/elementwise.hpp"
#include "engine/ops.hpp"

namespace mmx {

using kernels::BinaryOp;
using kernels::Eltwise;

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::binary_forward(BinaryOp::Add, a, b);
  if (autograd::needs_grad({a, b}))
    autograd::record("add", {a, b}, y, {}, [](const Tensor& gy) {
      return std::vector<Tensor>{gy, gy};
    });
  return y;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::binary_forward(BinaryOp::Sub, a, b);
  if (autograd::needs_grad({a, b})) {
    const bool b_grad = b.requires_grad();
    autograd::record("sub", {a, b}, y, {}, [b_grad](const Tensor& gy) {
      return std::vector<Tensor>{gy, b_grad ? neg(gy) : Tensor()};
    });
  }
  return y;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::binary_forward(BinaryOp::Mul, a, b);
  if (autograd::needs_grad({a, b})) {
    const bool a_grad = a.requires_grad(), b_grad = b.requires_grad();
    // Only keep the factor the other input's gradient needs.
    const Tensor a_saved = b_grad ? a.detach() : Tensor();
    const Tensor b_saved = a_grad ? b.detach() : Tensor();
    std::vector<Tensor> saved;
    if (a_saved.defined()) saved.push_back(a_saved);
    if (b_saved.defined()) saved.push_back(b_saved);
    autograd::record("mul", {a, b}, y, saved, [a_saved, b_saved](const Tensor& gy) {
      return std::vector<Tensor>{b_saved.defined() ? mul(gy, b_saved) : Tensor(),
                                 a_saved.defined() ? mul(gy, a_saved) : Tensor()};
    });
  }
  return y;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::binary_forward(BinaryOp::Div, a, b);
  if (autograd::needs_grad({a, b})) {
    // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -y/b: the output saves recomputing a/b.
    const Tensor b_saved = b.detach();
    const Tensor y_saved = b.requires_grad() ? y.detach() : Tensor();
    std::vector<Tensor> saved{b_saved};
    if (y_saved.defined()) saved.push_back(y_saved);
    const bool a_grad = a.requires_grad();
    autograd::record("div", {a, b}, y, saved, [a_grad, b_saved, y_saved](const Tensor& gy) {
      Tensor ga = a_grad ? div(gy, b_saved) : Tensor();
      Tensor gb = y_saved.defined() ? neg(mul(gy, div(y_saved, b_saved))) : Tensor();
      return std::vector<Tensor>{ga, gb};
    });
  }
  return y;
}

namespace {
// y = scale * x + shift on the eltwise kernel; the gradient is scale * gy.
Tensor affine(const char* op, const Tensor& x, float scale, float shift) {
  Tensor y = kernels::eltwise_forward(Eltwise::Linear, x, scale, shift);
  if (autograd::needs_grad({x}))
    autograd::record(op, {x}, y, {}, [scale](const Tensor& gy) {
      return std::vector<Tensor>{kernels::eltwise_forward(Eltwise::Linear, gy, scale, 0.0f)};
    });
  return y;
}
}  // namespace

Tensor add(const Tensor& a, float b) {
  return affine("add", a, 1.0f, b);
}
Tensor sub(const Tensor& a, float b) {
  return affine("sub", a, 1.0f, -b);
}
Tensor mul(const Tensor& a, float b) {
  return affine("mul", a, b, 0.0f);
}
Tensor div(const Tensor& a, float b) {
  return affine("div", a, 1.0f / b, 0.0f);
}
Tensor neg(const Tensor& a) {
  return affine("neg", a, -1.0f, 0.0f);
}

}  // namespace mmx
