// dropout: inverted dropout. While training, each element is kept with probability 1-p and
// scaled by 1/(1-p), so evaluation needs no rescaling; the mask comes from the caller's
// Generator, so a seeded run drops the same elements every time.
#include "engine/error.hpp"
#include "engine/ops.hpp"

namespace mmx {

Tensor dropout(const Tensor& x, float p, bool training, Generator& gen) {
  MMX_CHECK(p >= 0.0f && p < 1.0f, "dropout: p must be in [0, 1), got ", p, " for input ",
            to_string(x.shape()));
  if (!training || p == 0.0f) return x;
  Tensor mask = Tensor::empty(x.shape());
  const float keep_scale = 1.0f / (1.0f - p);
  float* m = mask.data();
  for (int64_t i = 0; i < mask.numel(); ++i) m[i] = gen.uniform() < p ? 0.0f : keep_scale;
  // mul records the backward: the gradient is the same mask times the incoming gradient.
  return mul(x, mask);
}

}  // namespace mmx
