// Small integers, -4 to 4, for the products' tests: bf16 holds them exactly, and their products
// and sums are exact in fp32 in any order, so a product that reads a wrong, stale or mixed-up
// operand (a bad stride, a missed transpose, a copy kept too long) shows as a wrong entry, and
// every path (fp32, bf16, oneDNN, ours) must agree bit for bit.
#pragma once

#include "engine/random.hpp"
#include "engine/tensor.hpp"

inline float small_integer(mmx::Generator& gen) {
  return static_cast<float>(gen.below(9)) - 4.0f;
}

inline mmx::Tensor small_integers(const mmx::Shape& shape, mmx::Generator& gen) {
  mmx::Tensor t = mmx::Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = small_integer(gen);
  return t;
}
