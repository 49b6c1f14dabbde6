#include "nn/optim/grad_clip.hpp"

#include <cmath>

#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"

namespace mmx::nn {

float clip_grad_norm(const std::vector<Tensor>& parameters, float max_norm) {
  MMX_CHECK(max_norm > 0.0f, "clip_grad_norm: max_norm must be positive, got ", max_norm);
  NoGrad no_grad;
  std::vector<Tensor> grads;
  for (Tensor p : parameters) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    // The loops below walk raw memory, so a strided gradient is first made contiguous.
    if (!g.is_contiguous()) {
      g = g.contiguous();
      p.set_grad(g);
    }
    grads.push_back(g);
  }
  double sum_squares = 0.0;
  for (const Tensor& g : grads) {
    const float* data = g.data();
    double partial = 0.0;
#pragma omp simd reduction(+ : partial)
    for (int64_t i = 0; i < g.numel(); ++i) partial += static_cast<double>(data[i]) * data[i];
    sum_squares += partial;
  }
  const float norm = static_cast<float>(std::sqrt(sum_squares));
  const float scale = max_norm / (norm + 1e-6f);
  if (scale < 1.0f) {
    for (Tensor& g : grads) {
      float* data = g.data();
#pragma omp simd
      for (int64_t i = 0; i < g.numel(); ++i) data[i] *= scale;
      g.bump_version();
    }
  }
  return norm;
}

}  // namespace mmx::nn
