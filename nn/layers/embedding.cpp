#include "nn/layers/embedding.hpp"

#include "engine/error.hpp"
#include "engine/ops.hpp"

namespace mmx::nn {

Embedding::Embedding(int64_t vocab, int64_t dim, Generator& gen) {
  MMX_CHECK(vocab > 0 && dim > 0, "Embedding: sizes must be positive, got vocab ", vocab, ", dim ",
            dim);
  weight_ = register_parameter("weight", Tensor::randn({vocab, dim}, gen));
}

Tensor Embedding::forward(const std::vector<int64_t>& ids, const Shape& ids_shape) const {
  return embedding(weight_, ids, ids_shape);
}

}  // namespace mmx::nn
