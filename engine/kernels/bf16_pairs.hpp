// bf16 numbers in pairs, for our own bf16 products (the causal attention's). A bf16 is the upper
// half of a float's bits. A pair is two adjacent bf16, read as one 32-bit word (the first in the
// low half): the operand unit of AVX512-BF16's dot-product instruction, which adds both products
// of a pair of pairs to one float lane, twice the multiply-adds of an fp32 FMA.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#include "engine/kernels/vec16.hpp"

namespace mmx::kernels {

// x rounded to bf16 as vcvtneps2bf16 rounds (which oneDNN's reorders use where the CPU has it):
// to nearest with ties to even; a subnormal becomes a zero of its sign (the instruction reads
// subnormals as zero), a NaN stays a NaN (quiet).
inline uint16_t to_bf16(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  if ((bits & 0x7f800000u) == 0) return static_cast<uint16_t>((bits >> 16) & 0x8000u);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

inline float from_bf16(uint16_t b) {
  return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

// x as the bf16 product operands see it.
inline float round_to_bf16(float x) {
  return from_bf16(to_bf16(x));
}

// 16 bf16 (32 bytes).
using Bf16x16 = uint16_t __attribute__((vector_size(32)));

// The 16 floats of v rounded as to_bf16 rounds each: one vcvtneps2bf16 where the CPU has it,
// where the rounding rule in integer lanes took ~9 instructions per 16 floats; elsewhere to_bf16
// on each lane, so that the rule is written once.
inline Bf16x16 to_bf16x16(Vec v) {
#if defined(__AVX512BF16__)
  return std::bit_cast<Bf16x16>(_mm512_cvtneps_pbh(std::bit_cast<__m512>(v)));
#else
  Bf16x16 out;
  for (int64_t l = 0; l < kVecLanes; ++l) out[l] = to_bf16(v[l]);
  return out;
#endif
}
// Stores the 16 bf16 of `b` at `to`.
inline void store_bf16(uint16_t* to, Bf16x16 b) {
  std::memcpy(to, &b, sizeof b);
}

// 16 pairs, one per float lane of a Vec.
using Pairs = uint32_t __attribute__((vector_size(64)));

// The 16 pairs (32 bf16) at `from`.
inline Pairs load_pairs(const uint16_t* from) {
  Pairs v;
  std::memcpy(&v, from, sizeof v);
  return v;
}
// The pair at `from`.
inline uint32_t pair_at(const uint16_t* from) {
  uint32_t v;
  std::memcpy(&v, from, sizeof v);
  return v;
}

// The 16 pairs (first[l], second[l]) at `to` (32 bf16).
inline void store_pairs(uint16_t* to, Bf16x16 first, Bf16x16 second) {
  using Bf16x32 = uint16_t __attribute__((vector_size(64)));
  const Bf16x32 pairs =
      __builtin_shufflevector(first, second, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                              8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  std::memcpy(to, &pairs, sizeof pairs);
}

// acc[l] + the two products of pair a with pair b[l]: the second products first, then the first
// ones, each exact in fp32 (8-bit significands), so each step rounds once. One vdpbf16ps where the
// CPU has it (which also reads and gives subnormals as zero); elsewhere the same sums in fp32.
inline Vec dot_pairs(Vec acc, uint32_t a, Pairs b) {
#if defined(__AVX512BF16__)
  const __m512 sum =
      _mm512_dpbf16_ps(std::bit_cast<__m512>(acc), (__m512bh)_mm512_set1_epi32(static_cast<int>(a)),
                       std::bit_cast<__m512bh>(b));
  return std::bit_cast<Vec>(sum);
#else
  const Pairs firsts = b << 16, seconds = b & 0xffff0000u;
  acc += std::bit_cast<float>(a & 0xffff0000u) * std::bit_cast<Vec>(seconds);
  return acc + std::bit_cast<float>(a << 16) * std::bit_cast<Vec>(firsts);
#endif
}

}  // namespace mmx::kernels
