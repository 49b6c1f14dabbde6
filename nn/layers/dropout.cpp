#include "nn/layers/dropout.hpp"

#include "engine/error.hpp"
#include "engine/ops.hpp"

namespace mmx::nn {

Dropout::Dropout(float p, Generator& gen) : p_(p), gen_(&gen) {
  MMX_CHECK(p >= 0.0f && p < 1.0f, "Dropout: p must be in [0, 1), got ", p);
}

Tensor Dropout::forward(const Tensor& x) const {
  if (!active()) return x;
  return dropout(x, p_, true, *gen_);
}

}  // namespace mmx::nn
