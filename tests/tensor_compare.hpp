// How far apart two tensors of one shape are, for the kernel tests' tolerances.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/tensor.hpp"

// The largest |a - b| over the elements (the shapes must match).
inline float max_abs_diff(const mmx::Tensor& a, const mmx::Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const std::vector<float> va = a.to_vector(), vb = b.to_vector();
  float worst = 0.0f;
  for (size_t i = 0; i < va.size(); ++i) worst = std::max(worst, std::fabs(va[i] - vb[i]));
  return worst;
}
