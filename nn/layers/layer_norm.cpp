#include "nn/layers/layer_norm.hpp"

#include "engine/error.hpp"
#include "engine/ops.hpp"

namespace mmx::nn {

LayerNorm::LayerNorm(int64_t dim, float eps) : eps_(eps) {
  MMX_CHECK(dim > 0, "LayerNorm: dim must be positive, got ", dim);
  weight_ = register_parameter("weight", Tensor::ones({dim}));
  bias_ = register_parameter("bias", Tensor::zeros({dim}));
}

Tensor LayerNorm::forward(const Tensor& x) const {
  return layer_norm(x, weight_, bias_, eps_);
}

}  // namespace mmx::nn
