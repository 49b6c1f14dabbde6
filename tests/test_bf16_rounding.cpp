// Rounding floats to bf16 (kernels/bf16_pairs.hpp): one table row per kind of float, and the
// vector rounding (vcvtneps2bf16 where the CPU has it) against the scalar one on random bits.
#include <doctest/doctest.h>

#include <bit>
#include <cstdint>

#include "engine/kernels/bf16_pairs.hpp"
#include "engine/random.hpp"

using namespace mmx;

namespace {

struct Row {
  const char* name;
  uint32_t float_bits;
  uint16_t bf16;
};

const Row kRows[] = {
    {"one", 0x3f800000u, 0x3f80},
    {"minus one", 0xbf800000u, 0xbf80},
    {"below half way: down", 0x3f807fffu, 0x3f80},
    {"above half way: up", 0x3f808001u, 0x3f81},
    {"a tie, even below: down", 0x3f808000u, 0x3f80},
    {"a tie, odd below: up", 0x3f818000u, 0x3f82},
    {"a carry into the exponent", 0x3fffffffu, 0x4000},
    {"the largest float: up to infinity", 0x7f7fffffu, 0x7f80},
    {"infinity", 0x7f800000u, 0x7f80},
    {"minus infinity", 0xff800000u, 0xff80},
    {"a quiet NaN", 0x7fc00001u, 0x7fc0},
    {"a signalling NaN: made quiet", 0x7f800001u, 0x7fc0},
    {"a NaN whose low bits would round up: stays a NaN", 0x7fbfffffu, 0x7fff},
    {"zero", 0x00000000u, 0x0000},
    {"minus zero", 0x80000000u, 0x8000},
    {"the smallest normal", 0x00800000u, 0x0080},
    {"the largest subnormal: zero, not the smallest normal", 0x007fffffu, 0x0000},
    {"a negative subnormal: minus zero", 0x80400000u, 0x8000},
    {"the smallest subnormal", 0x00000001u, 0x0000},
};

kernels::Vec filled(float x) {
  kernels::Vec v;
  for (int64_t l = 0; l < kernels::kVecLanes; ++l) v[l] = x;
  return v;
}

}  // namespace

TEST_CASE("bf16 rounding: to nearest, ties to even, NaN quiet, subnormals to zero") {
  for (const Row& row : kRows) {
    CAPTURE(row.name);
    const float x = std::bit_cast<float>(row.float_bits);
    CHECK(kernels::to_bf16(x) == row.bf16);
    const kernels::Bf16x16 lanes = kernels::to_bf16x16(filled(x));
    for (int64_t l = 0; l < kernels::kVecLanes; ++l) CHECK(lanes[l] == row.bf16);
  }
}

TEST_CASE("bf16 rounding: 16 at a time gives the scalar's bits, on any bits") {
  Generator gen(11);
  int64_t differing = 0;
  for (int round = 0; round < 4096; ++round) {
    kernels::Vec v;
    for (int64_t l = 0; l < kernels::kVecLanes; ++l)
      v[l] = std::bit_cast<float>(static_cast<uint32_t>(gen.next_u64()));
    const kernels::Bf16x16 lanes = kernels::to_bf16x16(v);
    for (int64_t l = 0; l < kernels::kVecLanes; ++l)
      differing += lanes[l] != kernels::to_bf16(v[l]);
  }
  CHECK(differing == 0);
}

TEST_CASE("bf16 pairs: two rows' lanes interleaved, the first row's in the low halves") {
  kernels::Vec first, second;
  for (int64_t l = 0; l < kernels::kVecLanes; ++l) {
    first[l] = static_cast<float>(l);
    second[l] = static_cast<float>(100 + l);
  }
  uint16_t pairs[2 * kernels::kVecLanes];
  kernels::store_pairs(pairs, kernels::to_bf16x16(first), kernels::to_bf16x16(second));
  for (int64_t l = 0; l < kernels::kVecLanes; ++l) {
    CAPTURE(l);
    CHECK(kernels::from_bf16(pairs[2 * l]) == first[l]);
    CHECK(kernels::from_bf16(pairs[2 * l + 1]) == second[l]);
  }
}
