#include "engine/kernels/dense_naive.hpp"

#include <cmath>
#include <vector>

#include "engine/error.hpp"

namespace mmx::kernels {

namespace {

// Element offset of `index` (right-aligned to t's axes; broadcast axes of size 1 read 0).
int64_t offset_of(const Tensor& t, const std::vector<int64_t>& index) {
  const size_t lead = index.size() - t.shape().size();
  int64_t off = 0;
  for (size_t d = 0; d < t.shape().size(); ++d)
    if (t.shape()[d] != 1) off += index[lead + d] * t.strides()[d];
  return off;
}

// Calls f(row_values, out_row) for every row along the last axis, reading x in double.
template <typename F>
Tensor map_rows(const Tensor& x, F&& f) {
  MMX_CHECK(x.dim() >= 1, "naive row op: needs at least one axis");
  const std::vector<float> in = x.to_vector();
  Tensor out = Tensor::empty(x.shape());
  const int64_t c = x.shape().back();
  for (int64_t r = 0; c > 0 && r < x.numel() / c; ++r) {
    std::vector<double> row(in.begin() + r * c, in.begin() + (r + 1) * c);
    f(row, out.data() + r * c);
  }
  return out;
}

}  // namespace

Tensor matmul_forward_naive(const Tensor& a, const Tensor& b, const Tensor& bias) {
  MMX_CHECK(a.dim() >= 2 && b.dim() >= 2 && a.size(-1) == b.size(-2), "matmul_naive: bad shapes ",
            to_string(a.shape()), " x ", to_string(b.shape()));
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  Shape out_shape = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                                     Shape(b.shape().begin(), b.shape().end() - 2), "matmul");
  const size_t batch_axes = out_shape.size();
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = Tensor::empty(out_shape);
  std::vector<int64_t> index(out_shape.size(), 0);
  float* o = out.data();
  for (int64_t e = 0; e < out.numel(); ++e) {
    int64_t rest = e;
    for (size_t d = out_shape.size(); d-- > 0;) {
      index[d] = rest % out_shape[d];
      rest /= out_shape[d];
    }
    const int64_t i = index[batch_axes], j = index[batch_axes + 1];
    std::vector<int64_t> ia = index, ib = index;
    double acc = bias.defined() ? bias.data()[j * bias.strides()[0]] : 0.0;
    for (int64_t p = 0; p < k; ++p) {
      ia[batch_axes] = i;
      ia[batch_axes + 1] = p;
      ib[batch_axes] = p;
      ib[batch_axes + 1] = j;
      acc += static_cast<double>(a.data()[offset_of(a, ia)]) * b.data()[offset_of(b, ib)];
    }
    o[e] = static_cast<float>(acc);
  }
  return out;
}

Tensor softmax_forward_naive(const Tensor& x) {
  return map_rows(x, [](const std::vector<double>& row, float* out) {
    double mx = -INFINITY, total = 0.0;
    for (double v : row) mx = std::max(mx, v);
    for (double v : row) total += std::exp(v - mx);
    for (size_t j = 0; j < row.size(); ++j)
      out[j] = static_cast<float>(std::exp(row[j] - mx) / total);
  });
}

Tensor log_softmax_forward_naive(const Tensor& x) {
  return map_rows(x, [](const std::vector<double>& row, float* out) {
    double mx = -INFINITY, total = 0.0;
    for (double v : row) mx = std::max(mx, v);
    for (double v : row) total += std::exp(v - mx);
    const double lse = mx + std::log(total);
    for (size_t j = 0; j < row.size(); ++j) out[j] = static_cast<float>(row[j] - lse);
  });
}

Tensor layer_norm_forward_naive(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                float eps) {
  const std::vector<float> w = weight.defined() ? weight.to_vector() : std::vector<float>();
  const std::vector<float> b = bias.defined() ? bias.to_vector() : std::vector<float>();
  return map_rows(x, [&](const std::vector<double>& row, float* out) {
    const double c = static_cast<double>(row.size());
    double mean = 0.0, var = 0.0;
    for (double v : row) mean += v / c;
    for (double v : row) var += (v - mean) * (v - mean) / c;
    const double inv_std = 1.0 / std::sqrt(var + eps);
    for (size_t j = 0; j < row.size(); ++j) {
      const double normed = (row[j] - mean) * inv_std;
      out[j] = static_cast<float>(normed * (w.empty() ? 1.0 : w[j]) + (b.empty() ? 0.0 : b[j]));
    }
  });
}

}  // namespace mmx::kernels
