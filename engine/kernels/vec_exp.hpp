// vec_exp: an exp that `#pragma omp simd` loops can vectorise. Without -ffast-math GCC will not
// call libm's vector expf, and exp is the cost of every softmax-like kernel (MultiMax included).
#pragma once

#include <bit>
#include <cstdint>

namespace mmx::kernels {

// Cephes expf: exp(x) = 2^n * exp(f) with n = round(x / ln2), |f| <= ln2/2, exp(f) by a degree-6
// polynomial; ln2 is split in two (Cody-Waite) so f keeps its low bits. Relative error ~1e-7 (a
// couple of ulp). Below -87.3 (where the float result would be denormal) and at -inf it returns
// exactly 0, so masked (-inf) scores get exactly zero weight.
#pragma omp declare simd notinbranch
inline float vec_exp(float x) {
  const float clamped = x > 88.3762626f ? 88.3762626f : (x < -87.3365448f ? -87.3365448f : x);
  const float n = __builtin_floorf(clamped * 1.44269504088896341f + 0.5f);
  float f = clamped - n * 0.693359375f;
  f = f + n * 2.12194440e-4f;
  float poly = 1.9875691500e-4f;
  poly = poly * f + 1.3981999507e-3f;
  poly = poly * f + 8.3334519073e-3f;
  poly = poly * f + 4.1665795894e-2f;
  poly = poly * f + 1.6666665459e-1f;
  poly = poly * f + 5.0000001201e-1f;
  const float expf_f = poly * f * f + f + 1.0f;
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  const float result = expf_f * std::bit_cast<float>(bits);
  return x < -87.3365448f ? 0.0f : result;
}

}  // namespace mmx::kernels
