// What the layer norm kernels check themselves; oneDNN's layer_normalization primitives compute
// (kernels/dnnl/dnnl_layer_norm.cpp).
#include "engine/kernels/layer_norm.hpp"

#include <cmath>

#include "engine/error.hpp"
#include "engine/kernels/dnnl/dnnl_kernels.hpp"

namespace mmx::kernels {

namespace {

void check_channels(const char* op, const Tensor& x, const Tensor& t, const char* what) {
  MMX_CHECK(!t.defined() || t.shape() == Shape{x.shape().back()}, op, ": ", what, " of shape ",
            to_string(t.shape()), " for input ", to_string(x.shape()));
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

LayerNormBackward layer_norm_backward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                      const Tensor& mean, const Tensor& variance, const Tensor& gy,
                                      float eps) {
  MMX_CHECK(gy.shape() == x.shape(), "layer_norm backward: gradient ", to_string(gy.shape()),
            " for input ", to_string(x.shape()));
  return dnnl_layer_norm_backward(x, weight, bias, mean, variance, gy, eps);
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
