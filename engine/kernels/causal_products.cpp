#include "engine/kernels/causal_products.hpp"

#include <algorithm>
#include <vector>

#include "engine/error.hpp"
#include "engine/kernels/dense.hpp"
#include "engine/kernels/elementwise.hpp"

namespace mmx::kernels {

namespace {

// Rows (queries) per block. Smaller blocks skip more of the upper triangle but make more, smaller
// oneDNN calls; 32 measured best on the tiny/small configs (T = 128, 256; see performance.md).
constexpr int64_t kBlock = 32;

// The window [start, end) of axis `axis` (-2 or -1) of t: a view, no autograd.
Tensor window(const Tensor& t, int64_t axis, int64_t start, int64_t end) {
  const size_t ax = static_cast<size_t>(t.dim() + axis);
  Shape shape = t.shape();
  shape[ax] = end - start;
  return Tensor::view_of(t, shape, t.strides(), t.offset() + start * t.strides()[ax]);
}

Tensor rows(const Tensor& t, int64_t start, int64_t end) { return window(t, -2, start, end); }
Tensor cols(const Tensor& t, int64_t start, int64_t end) { return window(t, -1, start, end); }

Shape batch_of(const Tensor& t) { return Shape(t.shape().begin(), t.shape().end() - 2); }

// a, b [..., T, d] with the same batch axes.
void check_pair(const char* op, const Tensor& a, const Tensor& b) {
  MMX_CHECK(a.dim() >= 2 && a.shape() == b.shape(), op,
            ": need two [..., T, d] operands of one shape, got ", to_string(a.shape()), " and ",
            to_string(b.shape()));
}

// p [..., T, T], b [..., T, d] with the same batch axes.
void check_weights(const char* op, const Tensor& p, const Tensor& b) {
  MMX_CHECK(p.dim() >= 2 && b.dim() == p.dim() && p.size(-1) == p.size(-2) &&
                b.size(-2) == p.size(-1) && batch_of(p) == batch_of(b),
            op, ": need p [..., T, T] and b [..., T, d] with the same batch axes, got ",
            to_string(p.shape()), " and ", to_string(b.shape()));
}

// The diagonal block [start, end) x [start, end) of a contiguous p, upper triangle zeroed:
// the only part of a block row that may not be read whole.
Tensor lower_diagonal_block(const Tensor& p, int64_t start, int64_t end) {
  const int64_t T = p.size(-1), n = end - start;
  Shape shape = batch_of(p);
  shape.push_back(n);
  shape.push_back(n);
  Tensor block = Tensor::empty(shape);
  const int64_t batch = numel(batch_of(p));
  const float* src = p.data();
  float* dst = block.data();
  for (int64_t h = 0; h < batch; ++h)
    for (int64_t r = 0; r < n; ++r) {
      const float* in = src + (h * T + start + r) * T + start;
      float* out = dst + (h * n + r) * n;
      std::copy(in, in + r + 1, out);
      std::fill(out + r + 1, out + n, 0.0f);
    }
  return block;
}

// Shared by the naive references: the batch-major double loops over dense copies.
struct DenseBatch {
  std::vector<float> a, b;
  int64_t batch, T, d;
};

DenseBatch dense_batch(const Tensor& a, const Tensor& b) {
  return {a.to_vector(), b.to_vector(), numel(batch_of(b)), b.size(-2), b.size(-1)};
}

}  // namespace

Tensor causal_scores_forward(const Tensor& a, const Tensor& b) {
  check_pair("causal_scores", a, b);
  const int64_t T = a.size(-2);
  Shape shape = batch_of(a);
  shape.push_back(T);
  shape.push_back(T);
  Tensor s = Tensor::empty(shape);
  if (s.numel() == 0) return s;
  for (int64_t r0 = 0; r0 < T; r0 += kBlock) {
    const int64_t r1 = std::min(T, r0 + kBlock);
    Tensor out = cols(rows(s, r0, r1), 0, r1);
    matmul_into(rows(a, r0, r1), matrix_transpose_view(rows(b, 0, r1)), out);
  }
  // Above the diagonal: the diagonal blocks' products there, and never-written memory.
  float* sd = s.data();
  const int64_t batch = s.numel() / (T * T);
  for (int64_t h = 0; h < batch; ++h)
    for (int64_t r = 0; r + 1 < T; ++r)
      std::fill(sd + (h * T + r) * T + r + 1, sd + (h * T + r + 1) * T, 0.0f);
  return s;
}

Tensor causal_weighted_sum_forward(const Tensor& p_in, const Tensor& b) {
  check_weights("causal_weighted_sum", p_in, b);
  const Tensor p = contiguous_copy(p_in);
  const int64_t T = p.size(-1);
  Tensor y = Tensor::empty(b.shape());
  if (y.numel() == 0) return y;
  for (int64_t r0 = 0; r0 < T; r0 += kBlock) {
    const int64_t r1 = std::min(T, r0 + kBlock);
    Tensor out = rows(y, r0, r1);
    matmul_into(lower_diagonal_block(p, r0, r1), rows(b, r0, r1), out);
    if (r0 > 0) matmul_into(cols(rows(p, r0, r1), 0, r0), rows(b, 0, r0), out, true);
  }
  return y;
}

Tensor causal_transposed_sum_forward(const Tensor& p_in, const Tensor& b) {
  check_weights("causal_transposed_sum", p_in, b);
  const Tensor p = contiguous_copy(p_in);
  const int64_t T = p.size(-1);
  Tensor y = Tensor::empty(b.shape());
  if (y.numel() == 0) return y;
  // Output rows [c0, c1) are keys c0..c1-1: the queries at or after them, rows [c0, T) of p.
  for (int64_t c0 = 0; c0 < T; c0 += kBlock) {
    const int64_t c1 = std::min(T, c0 + kBlock);
    Tensor out = rows(y, c0, c1);
    matmul_into(matrix_transpose_view(lower_diagonal_block(p, c0, c1)), rows(b, c0, c1), out);
    if (c1 < T)
      matmul_into(matrix_transpose_view(cols(rows(p, c1, T), c0, c1)), rows(b, c1, T), out, true);
  }
  return y;
}

Tensor causal_scores_forward_naive(const Tensor& a, const Tensor& b) {
  check_pair("causal_scores", a, b);
  const DenseBatch v = dense_batch(a, b);
  Shape shape = batch_of(a);
  shape.push_back(v.T);
  shape.push_back(v.T);
  Tensor s = Tensor::zeros(shape);
  for (int64_t h = 0; h < v.batch; ++h)
    for (int64_t i = 0; i < v.T; ++i)
      for (int64_t j = 0; j <= i; ++j) {
        double dot = 0.0;
        for (int64_t k = 0; k < v.d; ++k)
          dot += static_cast<double>(v.a[(h * v.T + i) * v.d + k]) * v.b[(h * v.T + j) * v.d + k];
        s.data()[(h * v.T + i) * v.T + j] = static_cast<float>(dot);
      }
  return s;
}

// y[i] = sum over j <= i of p[i, j] b[j], or (transposed) y[j] = sum over i >= j of p[i, j] b[i].
namespace {
Tensor causal_sum_naive(const char* op, const Tensor& p, const Tensor& b, bool transposed) {
  check_weights(op, p, b);
  const DenseBatch v = dense_batch(p, b);  // v.a holds p
  Tensor y = Tensor::empty(b.shape());
  for (int64_t h = 0; h < v.batch; ++h)
    for (int64_t out = 0; out < v.T; ++out)
      for (int64_t k = 0; k < v.d; ++k) {
        double total = 0.0;
        for (int64_t other = transposed ? out : 0; other <= (transposed ? v.T - 1 : out); ++other) {
          const int64_t i = transposed ? other : out, j = transposed ? out : other;
          total += static_cast<double>(v.a[(h * v.T + i) * v.T + j]) *
                   v.b[(h * v.T + other) * v.d + k];
        }
        y.data()[(h * v.T + out) * v.d + k] = static_cast<float>(total);
      }
  return y;
}
}  // namespace

Tensor causal_weighted_sum_forward_naive(const Tensor& p, const Tensor& b) {
  return causal_sum_naive("causal_weighted_sum", p, b, /*transposed=*/false);
}

Tensor causal_transposed_sum_forward_naive(const Tensor& p, const Tensor& b) {
  return causal_sum_naive("causal_transposed_sum", p, b, /*transposed=*/true);
}

}  // namespace mmx::kernels
