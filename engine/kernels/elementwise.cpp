#include "engine/kernels/elementwise.hpp"

#include <array>
#include <cmath>

#include "engine/error.hpp"
#include "engine/kernels/dnnl/dnnl_kernels.hpp"
#include "engine/parallel_region.hpp"
#include "engine/strided_copy.hpp"

namespace mmx::kernels {

namespace {

// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kParallelMinElements = 1 << 15;

// Walks `shape` one row (its last axis) at a time. For each row calls row(offsets, out_start)
// where offsets[k] is operand k's element offset of the row's first element and out_start the
// row's first index in a contiguous output. Rows run in parallel when the tensor is large.
template <size_t N, typename F>
void for_each_row(const Shape& shape, const std::array<Shape, N>& strides, F&& row) {
  const int64_t dim = static_cast<int64_t>(shape.size());
  const int64_t row_len = dim == 0 ? 1 : shape.back();
  const int64_t total = numel(shape);
  if (total == 0) return;
  const int64_t rows = total / row_len;
  parallel_region(total >= kParallelMinElements, [&] {
#pragma omp for
    for (int64_t r = 0; r < rows; ++r) {
      std::array<int64_t, N> offsets{};
      int64_t rest = r;
      for (int64_t d = dim - 2; d >= 0; --d) {
        const int64_t i = rest % shape[d];
        rest /= shape[d];
        for (size_t k = 0; k < N; ++k) offsets[k] += i * strides[k][d];
      }
      row(offsets, r * row_len);
    }
  });
}

int64_t inner_stride(const Shape& strides) {
  return strides.empty() ? 0 : strides.back();
}

float apply(BinaryOp op, float x, float y) {
  switch (op) {
    case BinaryOp::Add: return x + y;
    case BinaryOp::Sub: return x - y;
    case BinaryOp::Mul: return x * y;
    case BinaryOp::Div: return x / y;
  }
  return 0.0f;
}

// The row loop for one op, written out so the compiler vectorises each case.
template <typename Op>
void binary_rows(const Tensor& a, const Tensor& b, Tensor& out, Op op) {
  const Shape& shape = out.shape();
  const std::array<Shape, 2> strides{broadcast_strides(a, shape), broadcast_strides(b, shape)};
  const int64_t sa = inner_stride(strides[0]), sb = inner_stride(strides[1]);
  const int64_t n = shape.empty() ? 1 : shape.back();
  const float* pa = a.data();
  const float* pb = b.data();
  float* po = out.data();
  for_each_row(shape, strides, [&](const std::array<int64_t, 2>& off, int64_t start) {
    const float* ra = pa + off[0];
    const float* rb = pb + off[1];
    float* ro = po + start;
    // Unit and zero inner strides get their own loops: with a variable stride the compiler
    // emits gathers instead of plain vector loads.
    if (sa == 1 && sb == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) ro[i] = op(ra[i], rb[i]);
    } else if (sa == 1 && sb == 0) {
      const float y = *rb;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) ro[i] = op(ra[i], y);
    } else if (sa == 0 && sb == 1) {
      const float x = *ra;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) ro[i] = op(x, rb[i]);
    } else {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) ro[i] = op(ra[i * sa], rb[i * sb]);
    }
  });
}

}  // namespace

const char* binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
  }
  return "binary";
}

Shape broadcast_strides(const Tensor& t, const Shape& out_shape) {
  const Shape& shape = t.shape();
  const Shape& strides = t.strides();
  const size_t lead = out_shape.size() - shape.size();
  Shape out(out_shape.size(), 0);
  for (size_t d = 0; d < shape.size(); ++d)
    out[lead + d] = shape[d] == out_shape[lead + d] ? strides[d] : 0;
  return out;
}

Tensor contiguous_copy(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor out = Tensor::empty(t.shape());
  copy_strided(t, out.data());
  return out;
}

Tensor output_or_into(const char* op, const Tensor& into, const Shape& shape) {
  if (!into.defined()) return Tensor::empty(shape);
  MMX_CHECK(into.shape() == shape && into.is_contiguous(), op, ": `into` must be dense and of ",
            "shape ", to_string(shape), ", got ", to_string(into.shape()),
            into.is_contiguous() ? "" : " (strided)");
  return into;
}

Tensor binary_strided(BinaryOp op, const Tensor& a, const Tensor& b) {
  Tensor out = Tensor::empty(broadcast_shapes(a.shape(), b.shape(), binary_op_name(op)));
  switch (op) {
    case BinaryOp::Add: binary_rows(a, b, out, [](float x, float y) { return x + y; }); break;
    case BinaryOp::Sub: binary_rows(a, b, out, [](float x, float y) { return x - y; }); break;
    case BinaryOp::Mul: binary_rows(a, b, out, [](float x, float y) { return x * y; }); break;
    case BinaryOp::Div: binary_rows(a, b, out, [](float x, float y) { return x / y; }); break;
  }
  return out;
}

Tensor binary_forward_naive(BinaryOp op, const Tensor& a, const Tensor& b) {
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), binary_op_name(op));
  const Shape sa = broadcast_strides(a, shape), sb = broadcast_strides(b, shape);
  Tensor out = Tensor::empty(shape);
  for (int64_t i = 0; i < out.numel(); ++i)
    out.data()[i] = apply(op, a.data()[offset_of(i, shape, sa)], b.data()[offset_of(i, shape, sb)]);
  return out;
}

Tensor binary_forward(BinaryOp op, const Tensor& a, const Tensor& b) {
  // oneDNN broadcasts src1 only: a commutative op whose first input repeats swaps its inputs.
  // sub/div with a repeating first input, [3,1]x[1,4] (both repeat) and strided views take
  // the own loop, which reads any broadcast or stride directly without a copy.
  Tensor y = dnnl_binary(op, a, b);
  const bool commutes = op == BinaryOp::Add || op == BinaryOp::Mul;
  if (!y.defined() && commutes) y = dnnl_binary(op, b, a);
  return y.defined() ? y : binary_strided(op, a, b);
}

// --------------------------------------------------------------- eltwise

const char* eltwise_name(Eltwise kind) {
  switch (kind) {
    case Eltwise::Linear: return "linear";
    case Eltwise::Exp: return "exp";
    case Eltwise::Log: return "log";
    case Eltwise::Sqrt: return "sqrt";
    case Eltwise::Pow: return "pow";
    case Eltwise::Tanh: return "tanh";
    case Eltwise::Relu: return "relu";
    case Eltwise::GeluTanh: return "gelu_tanh";
    case Eltwise::GeluExact: return "gelu_exact";
  }
  return "eltwise";
}

namespace {

constexpr double kSqrt2OverPi = 0.79788456080286535588;  // sqrt(2/pi)
constexpr double kGeluCubic = 0.044715;

double eltwise_value(Eltwise kind, double x, double alpha, double beta) {
  switch (kind) {
    case Eltwise::Linear: return alpha * x + beta;
    case Eltwise::Exp: return std::exp(x);
    case Eltwise::Log: return std::log(x);
    case Eltwise::Sqrt: return std::sqrt(x);
    case Eltwise::Pow: return std::pow(x, alpha);
    case Eltwise::Tanh: return std::tanh(x);
    case Eltwise::Relu: return x > 0 ? x : alpha * x;
    case Eltwise::GeluTanh:
      return 0.5 * x * (1.0 + std::tanh(kSqrt2OverPi * (x + kGeluCubic * x * x * x)));
    case Eltwise::GeluExact: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  }
  return 0.0;
}

// dy/dx at x (relu's derivative at 0 is the one-sided 0, as everywhere in the engine).
double eltwise_derivative(Eltwise kind, double x, double alpha) {
  switch (kind) {
    case Eltwise::Linear: return alpha;
    case Eltwise::Exp: return std::exp(x);
    case Eltwise::Log: return 1.0 / x;
    case Eltwise::Sqrt: return 0.5 / std::sqrt(x);
    case Eltwise::Pow: return alpha * std::pow(x, alpha - 1.0);
    case Eltwise::Tanh: {
      const double t = std::tanh(x);
      return 1.0 - t * t;
    }
    case Eltwise::Relu: return x > 0 ? 1.0 : alpha;
    case Eltwise::GeluTanh: {
      const double t = std::tanh(kSqrt2OverPi * (x + kGeluCubic * x * x * x));
      return 0.5 * (1.0 + t) +
             0.5 * x * (1.0 - t * t) * kSqrt2OverPi * (1.0 + 3.0 * kGeluCubic * x * x);
    }
    case Eltwise::GeluExact:
      return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))) +
             x * std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
  }
  return 0.0;
}

}  // namespace

Tensor eltwise_forward_naive(Eltwise kind, const Tensor& x, float alpha, float beta) {
  const std::vector<float> v = x.to_vector();
  Tensor out = Tensor::empty(x.shape());
  for (size_t i = 0; i < v.size(); ++i)
    out.data()[i] = static_cast<float>(eltwise_value(kind, v[i], alpha, beta));
  return out;
}

Tensor eltwise_backward_naive(Eltwise kind, const Tensor& x, const Tensor& grad_y, float alpha,
                              float /*beta*/) {
  MMX_CHECK(x.shape() == grad_y.shape(), eltwise_name(kind), " backward: gradient of shape ",
            to_string(grad_y.shape()), " for an input of shape ", to_string(x.shape()));
  const std::vector<float> v = x.to_vector();
  const std::vector<float> g = grad_y.to_vector();
  Tensor out = Tensor::empty(x.shape());
  for (size_t i = 0; i < v.size(); ++i)
    out.data()[i] = static_cast<float>(g[i] * eltwise_derivative(kind, v[i], alpha));
  return out;
}

namespace {
// alpha*x + beta as an own loop, not a oneDNN primitive: the scalar is part of a primitive's
// key, and ops like `mul(x, learning_rate)` would fill the cache with one primitive per value.
Tensor linear_strided(const Tensor& x, float alpha, float beta) {
  const Tensor src = contiguous_copy(x);
  Tensor out = Tensor::empty(x.shape());
  const float* in = src.data();
  float* o = out.data();
  const int64_t n = out.numel();
  parallel_region(n >= kParallelMinElements, [&] {
#pragma omp for simd
    for (int64_t i = 0; i < n; ++i) o[i] = alpha * in[i] + beta;
  });
  return out;
}
}  // namespace

Tensor eltwise_forward(Eltwise kind, const Tensor& x, float alpha, float beta) {
  if (kind == Eltwise::Linear) return linear_strided(x, alpha, beta);
  return dnnl_eltwise_forward(kind, contiguous_copy(x), alpha, beta);
}

Tensor eltwise_backward(Eltwise kind, const Tensor& x, const Tensor& grad_y, float alpha,
                        float beta) {
  MMX_CHECK(x.shape() == grad_y.shape(), eltwise_name(kind), " backward: gradient of shape ",
            to_string(grad_y.shape()), " for an input of shape ", to_string(x.shape()));
  if (kind == Eltwise::Linear) return linear_strided(grad_y, alpha, 0.0f);
  return dnnl_eltwise_backward(kind, contiguous_copy(x), contiguous_copy(grad_y), alpha, beta);
}

// --------------------------------------------------------------- where

Tensor where_forward(const Tensor& cond, const Tensor& a, const Tensor& b, const char* op) {
  const Shape ab = broadcast_shapes(a.shape(), b.shape(), op);
  const Shape shape = broadcast_shapes(cond.shape(), ab, op);
  Tensor out = Tensor::empty(shape);
  const std::array<Shape, 3> strides{broadcast_strides(cond, shape), broadcast_strides(a, shape),
                                     broadcast_strides(b, shape)};
  const int64_t sc = inner_stride(strides[0]), sa = inner_stride(strides[1]),
                sb = inner_stride(strides[2]);
  const int64_t n = shape.empty() ? 1 : shape.back();
  const float* pc = cond.data();
  const float* pa = a.data();
  const float* pb = b.data();
  float* po = out.data();
  for_each_row(shape, strides, [&](const std::array<int64_t, 3>& off, int64_t start) {
    const float* rc = pc + off[0];
    const float* ra = pa + off[1];
    const float* rb = pb + off[2];
    float* ro = po + start;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) ro[i] = rc[i * sc] != 0.0f ? ra[i * sa] : rb[i * sb];
  });
  return out;
}

Tensor where_forward_naive(const Tensor& cond, const Tensor& a, const Tensor& b) {
  const Shape shape =
      broadcast_shapes(cond.shape(), broadcast_shapes(a.shape(), b.shape(), "where"), "where");
  const Shape sc = broadcast_strides(cond, shape), sa = broadcast_strides(a, shape),
              sb = broadcast_strides(b, shape);
  Tensor out = Tensor::empty(shape);
  for (int64_t i = 0; i < out.numel(); ++i)
    out.data()[i] = cond.data()[offset_of(i, shape, sc)] != 0.0f
                        ? a.data()[offset_of(i, shape, sa)]
                        : b.data()[offset_of(i, shape, sb)];
  return out;
}

}  // namespace mmx::kernels
