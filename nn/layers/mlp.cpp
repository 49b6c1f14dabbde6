#include "nn/layers/mlp.hpp"

#include "engine/ops.hpp"

namespace mmx::nn {

MLP::MLP(int64_t dim, float dropout, Generator& init_gen, Generator& dropout_gen)
    : fc_(dim, 4 * dim, init_gen), out_(4 * dim, dim, init_gen), dropout_(dropout, dropout_gen) {
  register_module("fc", fc_);
  register_module("out", out_);
  register_module("dropout", dropout_);
}

// Exact (erf) GELU: F.gelu's default, which the PyTorch reference uses.
Tensor MLP::forward(const Tensor& x) const {
  return dropout_.forward(out_.forward(gelu(fc_.forward(x), GeluForm::Exact)));
}

}  // namespace mmx::nn
