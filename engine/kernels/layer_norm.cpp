// The layer norm kernels: oneDNN's layer_normalization primitive computes the forward
// (kernels/dnnl/dnnl_layer_norm.cpp); the backward is our own row loop, with its double
// reference beside it.
#include "engine/kernels/layer_norm.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/error.hpp"
#include "engine/kernels/dnnl/dnnl_kernels.hpp"
#include "engine/kernels/vec16.hpp"
#include "engine/parallel_region.hpp"

namespace mmx::kernels {

namespace {

void check_channels(const char* op, const Tensor& x, const Tensor& t, const char* what) {
  MMX_CHECK(!t.defined() || t.shape() == Shape{x.shape().back()}, op, ": ", what, " of shape ",
            to_string(t.shape()), " for input ", to_string(x.shape()));
}

// Rows whose weight and bias gradients sum into one partial. The partials are added in chunk
// order afterwards, so the sums are the same for any thread count (oneDNN's backward summed
// per-thread partials: its bits changed with the team).
constexpr int64_t kRowChunk = 64;
constexpr int64_t kParallelMinElements = 1 << 15;

// What one row's backward reads besides its x and gy.
struct RowStatistics {
  float mean, inv_std;
};

// One row of dx = inv_std (g - mean(g) - xhat mean(g xhat)), g = gy w, xhat = (x - mean) inv_std;
// adds gy xhat and gy into dw_sum and db_sum (each may be null). Two passes over the row: the
// two row means, then dx; xhat and g are computed again in the second (cheaper than storing).
void backward_row(const float* x, const float* gy, const float* w, int64_t c, RowStatistics s,
                  float* dx, float* dw_sum, float* db_sum) {
  Vec g_vec{}, gx_vec{};
  float g_tail = 0.0f, gx_tail = 0.0f;
  int64_t j = 0;
  for (; j + kVecLanes <= c; j += kVecLanes) {
    const Vec xhat = (load(x + j) - s.mean) * s.inv_std, dy = load(gy + j);
    const Vec g = w ? dy * load(w + j) : dy;
    g_vec += g;
    gx_vec += g * xhat;
    if (dw_sum) store(dw_sum + j, load(dw_sum + j) + dy * xhat);
    if (db_sum) store(db_sum + j, load(db_sum + j) + dy);
  }
  for (; j < c; ++j) {
    const float xhat = (x[j] - s.mean) * s.inv_std, g = w ? gy[j] * w[j] : gy[j];
    g_tail += g;
    gx_tail += g * xhat;
    if (dw_sum) dw_sum[j] += gy[j] * xhat;
    if (db_sum) db_sum[j] += gy[j];
  }
  const float n = static_cast<float>(c);
  const float g_mean = (horizontal_sum(g_vec) + g_tail) / n;
  const float gx_mean = (horizontal_sum(gx_vec) + gx_tail) / n;
  for (j = 0; j + kVecLanes <= c; j += kVecLanes) {
    const Vec xhat = (load(x + j) - s.mean) * s.inv_std, dy = load(gy + j);
    const Vec g = w ? dy * load(w + j) : dy;
    store(dx + j, s.inv_std * (g - g_mean - xhat * gx_mean));
  }
  for (; j < c; ++j) {
    const float xhat = (x[j] - s.mean) * s.inv_std, g = w ? gy[j] * w[j] : gy[j];
    dx[j] = s.inv_std * (g - g_mean - xhat * gx_mean);
  }
}

}  // namespace

LayerNormForward layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                    float eps) {
  MMX_CHECK(x.dim() >= 1 && x.shape().back() > 0, "layer_norm: need a non-empty last axis, got ",
            to_string(x.shape()));
  check_channels("layer_norm", x, weight, "weight");
  check_channels("layer_norm", x, bias, "bias");
  return dnnl_layer_norm_forward(x, weight, bias, eps);
}

LayerNormBackward layer_norm_backward(const Tensor& x_in, const Tensor& weight, const Tensor& bias,
                                      const Tensor& mean, const Tensor& variance,
                                      const Tensor& gy_in, float eps) {
  MMX_CHECK(gy_in.shape() == x_in.shape(), "layer_norm backward: gradient ",
            to_string(gy_in.shape()), " for input ", to_string(x_in.shape()));
  const Tensor x = contiguous_copy(x_in), gy = contiguous_copy(gy_in);
  MMX_CHECK(x.dim() >= 1 && x.shape().back() > 0,
            "layer_norm backward: need a non-empty last axis, got ", to_string(x.shape()));
  check_channels("layer_norm backward", x, weight, "weight");
  check_channels("layer_norm backward", x, bias, "bias");
  const int64_t c = x.shape().back(), rows = x.numel() / c;
  MMX_CHECK(mean.numel() == rows && variance.numel() == rows,
            "layer_norm backward: need a mean and a variance per row (", rows, "), got ",
            mean.numel(), " and ", variance.numel());
  const Tensor w = weight.defined() ? contiguous_copy(weight) : Tensor();
  LayerNormBackward out{Tensor::empty(x.shape()), weight.defined() ? Tensor::zeros({c}) : Tensor(),
                        bias.defined() ? Tensor::zeros({c}) : Tensor()};
  const int64_t chunks = (rows + kRowChunk - 1) / kRowChunk;
  // Chunk k's weight and bias gradient sums: rows [2k, 2k + 1] of `partials`.
  std::vector<float> partials(static_cast<size_t>(2 * chunks * c), 0.0f);
  const bool dw = out.dweight.defined(), db = out.dbias.defined();
  const float *xd = x.data(), *gyd = gy.data(), *wd = w.defined() ? w.data() : nullptr;
  const float *means = mean.data(), *variances = variance.data();
  float* dxd = out.dx.data();
  parallel_region(rows * c >= kParallelMinElements, [&] {
#pragma omp for schedule(static)
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      float* dw_sum = dw ? partials.data() + 2 * chunk * c : nullptr;
      float* db_sum = db ? partials.data() + (2 * chunk + 1) * c : nullptr;
      for (int64_t r = chunk * kRowChunk; r < std::min(rows, (chunk + 1) * kRowChunk); ++r) {
        const RowStatistics s{means[r], 1.0f / std::sqrt(variances[r] + eps)};
        backward_row(xd + r * c, gyd + r * c, wd, c, s, dxd + r * c, dw_sum, db_sum);
      }
    }
  });
  // In chunk order: the same sums for any thread count. 2 x chunks x c adds, too few to thread.
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    const float* dw_sum = partials.data() + 2 * chunk * c;
    const float* db_sum = dw_sum + c;
    for (int64_t j = 0; dw && j < c; ++j) out.dweight.data()[j] += dw_sum[j];
    for (int64_t j = 0; db && j < c; ++j) out.dbias.data()[j] += db_sum[j];
  }
  return out;
}

LayerNormBackward layer_norm_backward_naive(const Tensor& x, const Tensor& weight,
                                            const Tensor& bias, const Tensor& gy, float eps) {
  const int64_t c = x.shape().back(), rows = x.numel() / c;
  const std::vector<float> xv = contiguous_copy(x).to_vector(),
                           gv = contiguous_copy(gy).to_vector();
  const std::vector<float> w = weight.defined() ? weight.to_vector() : std::vector<float>();
  std::vector<double> dw(static_cast<size_t>(c), 0.0), db(static_cast<size_t>(c), 0.0);
  Tensor dx = Tensor::empty(x.shape());
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = xv.data() + r * c;
    const float* gr = gv.data() + r * c;
    double mean = 0.0, var = 0.0, g_mean = 0.0, gx_mean = 0.0;
    for (int64_t j = 0; j < c; ++j) mean += xr[j] / static_cast<double>(c);
    for (int64_t j = 0; j < c; ++j) var += (xr[j] - mean) * (xr[j] - mean) / static_cast<double>(c);
    const double inv_std = 1.0 / std::sqrt(var + eps);
    const auto xhat = [&](int64_t j) { return (xr[j] - mean) * inv_std; };
    const auto g = [&](int64_t j) { return gr[j] * (w.empty() ? 1.0 : w[static_cast<size_t>(j)]); };
    for (int64_t j = 0; j < c; ++j) {
      g_mean += g(j) / static_cast<double>(c);
      gx_mean += g(j) * xhat(j) / static_cast<double>(c);
      dw[static_cast<size_t>(j)] += gr[j] * xhat(j);
      db[static_cast<size_t>(j)] += gr[j];
    }
    for (int64_t j = 0; j < c; ++j)
      dx.data()[r * c + j] = static_cast<float>(inv_std * (g(j) - g_mean - xhat(j) * gx_mean));
  }
  const auto to_tensor = [c](const std::vector<double>& v) {
    Tensor t = Tensor::empty({c});
    std::transform(v.begin(), v.end(), t.data(), [](double e) { return static_cast<float>(e); });
    return t;
  };
  return {dx, weight.defined() ? to_tensor(dw) : Tensor(),
          bias.defined() ? to_tensor(db) : Tensor()};
}

void layer_norm_row(const float* x, const float* weight, const float* bias, int64_t n, float eps,
                    float* y) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / static_cast<double>(n);
  double squares = 0;
  for (int64_t i = 0; i < n; ++i) squares += (x[i] - mean) * (x[i] - mean);
  const auto inv_std = static_cast<float>(1.0 / std::sqrt(squares / static_cast<double>(n) + eps));
  const auto mean_f = static_cast<float>(mean);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean_f) * inv_std * weight[i] + bias[i];
}

}  // namespace mmx::kernels
