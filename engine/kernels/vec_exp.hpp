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
  } else {  // what std::max and std::min compute, as selects
    const V low_clamped = x < lowest ? lowest : x;
    clamped = highest < low_clamped ? highest : low_clamped;
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
  // 2^n from its exponent bits.
  V pow2;
  if constexpr (scalar) {
    // A union, not std::bit_cast, whose temporary GCC 12 does not vectorise (GCC and Clang
    // define union punning).
    union {
      uint32_t bits;
      float value;
    } punned;
    punned.bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
    pow2 = punned.value;
  } else {
    const VecMask bits = (__builtin_convertvector(n, VecMask) + 127) << 23;
    std::memcpy(&pow2, &bits, sizeof pow2);
  }
  const V result = expf_f * pow2;
  return x < lowest ? V{} : result;
}

}  // namespace mmx::kernels
