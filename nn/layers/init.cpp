#include "nn/layers/init.hpp"

#include <cmath>

#include "engine/error.hpp"

namespace mmx::nn {

Tensor truncated_normal(const Shape& shape, Generator& gen, float std) {
  MMX_CHECK(std > 0.0f, "truncated_normal: std must be positive, got ", std);
  Tensor out = Tensor::empty(shape);
  float* data = out.data();
  for (int64_t i = 0; i < out.numel(); ++i) {
    float z = gen.normal();
    while (std::fabs(z) > 2.0f) z = gen.normal();
    data[i] = z * std;
  }
  return out;
}

Tensor fan_in_uniform(const Shape& shape, int64_t fan_in, Generator& gen) {
  MMX_CHECK(fan_in > 0, "fan_in_uniform: fan_in must be positive, got ", fan_in);
  float bound = 1.0f / std::sqrt(static_cast<float>(fan_in));
  return Tensor::uniform(shape, gen, -bound, bound);
}

}  // namespace mmx::nn
