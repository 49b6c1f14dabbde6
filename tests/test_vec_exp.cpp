// vec_exp and map_row (engine/kernels/vec_exp.hpp, vec16.hpp): a row computed in whole chunks
// gives the bits a float-by-float loop gives. The fused attention's backward recomputes its
// weights with the same chunks its forward used, and the chunks' exp is the scalar one lane by
// lane, so no path may drift from another by an ulp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/kernels/vec16.hpp"
#include "engine/kernels/vec_exp.hpp"

using namespace mmx::kernels;

namespace {

bool same_bits(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// Inputs across exp's whole range, its clamps and the special values.
std::vector<float> exp_inputs() {
  std::vector<float> xs = {
      0.0f,         -0.0f,     1.0f,      -1.0f,
      -87.3365448f, -87.3365f, -87.34f,   88.3762626f,
      88.38f,       88.7f,     -103.0f,   1e-30f,
      -1e-30f,      INFINITY,  -INFINITY, std::numeric_limits<float>::quiet_NaN()};
  for (float x = -100.0f; x <= 100.0f; x += 0.0137f) xs.push_back(x);
  while (xs.size() % kVecLanes != 0) xs.push_back(0.5f);
  return xs;
}

}  // namespace

TEST_CASE("vec_exp on a Vec gives, lane by lane, the bits of vec_exp on a float") {
  const std::vector<float> xs = exp_inputs();
  for (size_t i = 0; i < xs.size(); i += kVecLanes) {
    const Vec chunk = vec_exp(load(xs.data() + i));
    for (size_t lane = 0; lane < kVecLanes; ++lane) {
      const float x = xs[i + lane];
      INFO("x = " << x);
      CHECK(same_bits(chunk[lane], vec_exp(x)));
    }
  }
}

TEST_CASE("vec_exp is exp within a few ulp, exactly 0 below -87.34 and at -inf") {
  for (float x = -87.0f; x <= 88.0f; x += 0.01f) {
    INFO("x = " << x);
    const double want = std::exp(static_cast<double>(x));
    CHECK(std::abs(vec_exp(x) - want) <= 3e-7 * want);
  }
  CHECK(vec_exp(-87.5f) == 0.0f);
  CHECK(vec_exp(-INFINITY) == 0.0f);
  CHECK(vec_exp(0.0f) == 1.0f);
}

TEST_CASE("map_row: every length, in whole chunks, agrees with a float-by-float loop") {
  const auto f = [](auto v) { return vec_exp(v * 0.5f - 3.0f); };
  constexpr float kUntouched = 12345.0f;
  for (int64_t cols : {int64_t{48}, int64_t{37}}) {  // a whole number of chunks, and not
    std::vector<float> x(static_cast<size_t>(cols));
    for (int64_t j = 0; j < cols; ++j) x[static_cast<size_t>(j)] = 0.37f * static_cast<float>(j);
    for (int64_t active = 0; active <= cols; ++active) {
      INFO("cols = " << cols << ", active = " << active);
      std::vector<float> y(static_cast<size_t>(cols), kUntouched);
      map_row(x.data(), active, cols, y.data(), f);
      const int64_t chunk_end = (active + kVecLanes - 1) / kVecLanes * kVecLanes;
      for (int64_t j = 0; j < cols; ++j) {
        const float got = y[static_cast<size_t>(j)];
        if (j < active)
          CHECK(same_bits(got, f(x[static_cast<size_t>(j)])));
        else if (j < chunk_end && chunk_end <= cols)  // the last chunk, written whole
          CHECK(got == 0.0f);
        else
          CHECK(got == kUntouched);
      }
    }
  }
}

TEST_CASE("map_row may write its result over its input") {
  std::vector<float> row = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19};
  const std::vector<float> before = row;
  map_row(row.data(), 19, 19, row.data(), [](auto v) { return v * 2.0f; });
  for (size_t j = 0; j < row.size(); ++j) CHECK(row[j] == 2.0f * before[j]);
}
