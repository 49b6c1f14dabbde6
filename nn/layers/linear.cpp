#include "nn/layers/linear.hpp"

#include "engine/error.hpp"
#include "engine/ops.hpp"
#include "nn/layers/init.hpp"

namespace mmx::nn {

Linear::Linear(int64_t in_features, int64_t out_features, Generator& gen, bool bias) {
  MMX_CHECK(in_features > 0 && out_features > 0, "Linear: sizes must be positive, got in ",
            in_features, ", out ", out_features);
  weight_ =
      register_parameter("weight", fan_in_uniform({out_features, in_features}, in_features, gen));
  if (bias) bias_ = register_parameter("bias", fan_in_uniform({out_features}, in_features, gen));
}

Tensor Linear::forward(const Tensor& x) const {
  return linear(x, weight_, bias_);
}

}  // namespace mmx::nn
