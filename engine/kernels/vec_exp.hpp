// vec_exp: an exp that `#pragma omp simd` loops can vectorise, and that whole Vecs (vec16.hpp)
// can call. Without -ffast-math GCC will not call libm's vector expf, and exp is the cost of
// every softmax-like kernel (MultiMax included).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "engine/kernels/vec16.hpp"

namespace mmx::kernels {

// a * 2^n for an integer-valued n in [-126, 128]: 2^n from its exponent bits (+inf at 128).
// The product is exact but for its one rounding, so the Vec and float forms agree bit for bit.
inline float times_power_of_two(float a, float n) {
  // A union, not std::bit_cast, whose temporary GCC 12 does not vectorise (GCC and Clang
  // define union punning).
  union {
    uint32_t bits;
    float value;
  } pow2;
  pow2.bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  return a * pow2.value;
}
inline Vec times_power_of_two(Vec a, Vec n) {
#if defined(__AVX512F__)
  // One instruction for the conversion, the add, the shift and the product below.
  const __m512 scaled = _mm512_maskz_scalef_ps(kAllLanes, reinterpret_cast<const __m512&>(a),
                                               reinterpret_cast<const __m512&>(n));
  return reinterpret_cast<const Vec&>(scaled);
#else
  const VecMask bits = (__builtin_convertvector(n, VecMask) + 127) << 23;
  Vec pow2;
  std::memcpy(&pow2, &bits, sizeof pow2);
  return a * pow2;
#endif
}

// Cephes expf: exp(x) = 2^n * exp(f) with n = round(x / ln2), |f| <= ln2/2, exp(f) by a degree-6
// polynomial; ln2 is split in two (Cody-Waite) so f keeps its low bits. Relative error ~1e-7 (a
// couple of ulp). Below -87.3 (where the float result would be denormal) and at -inf it returns
// exactly 0, so masked (-inf) scores get exactly zero weight.
//
// V = float or Vec: the same operations, lane by lane, so a row computed in chunks and one
// computed float by float agree bit for bit (tests/test_vec_exp.cpp checks it).
template <class V>
inline V vec_exp(V x) {
  constexpr bool scalar = std::is_same_v<V, float>;
  const V lowest = V{} + -87.3365448f, highest = V{} + 88.3762626f;
  V clamped;
  if constexpr (scalar) {
    // min/max and the round-to-nearest below keep an omp simd loop branch-free: with
    // ternaries and floorf, GCC 12 reports the loop vectorised but emits scalar code.
    clamped = std::min(std::max(x, lowest), highest);
  } else {  // what std::max and std::min compute (vec16.hpp)
    clamped = vmin(highest, vmax(lowest, x));
  }
  // Adding 1.5 * 2^23 rounds to the nearest integer (float keeps no fraction bits there).
  const V n = (clamped * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  V f = clamped - n * 0.693359375f;
  f = f + n * 2.12194440e-4f;
  V poly = V{} + 1.9875691500e-4f;
  poly = poly * f + 1.3981999507e-3f;
  poly = poly * f + 8.3334519073e-3f;
  poly = poly * f + 4.1665795894e-2f;
  poly = poly * f + 1.6666665459e-1f;
  poly = poly * f + 5.0000001201e-1f;
  const V expf_f = poly * f * f + f + 1.0f;
  return x < lowest ? V{} : times_power_of_two(expf_f, n);
}

}  // namespace mmx::kernels
