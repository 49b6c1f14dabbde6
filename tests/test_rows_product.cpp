// The sums down the rows, a^T b (kernels/rows_product.hpp): the bf16 kernel against its naive
// loop, one table row per shape, the edges of its tiles and panels included. (test_bf16 holds
// kernels::rows_product, which picks this kernel or oneDNN, against the plain product.)
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "engine/kernels/bf16_pairs.hpp"
#include "engine/kernels/rows_product.hpp"
#include "engine/random.hpp"
#include "small_integers.hpp"

using namespace mmx;

namespace {

struct Row {
  const char* name;
  int64_t rows, m, n;
};

// The kernel packs columns in panels of 32 and rows in pairs, and sums 8 output rows at a time.
const Row kRows[] = {
    {"one entry", 1, 1, 1},
    {"whole tiles and panels", 16, 16, 64},
    {"an odd row count: the last pair half zero", 7, 8, 32},
    {"output rows past the last whole tile", 10, 13, 32},
    {"columns past the last whole panel", 12, 8, 45},
    {"every edge at once", 33, 41, 70},
    {"m smaller than n", 40, 24, 100},
    {"a weight's gradient, small", 256, 96, 64},
};

std::vector<uint16_t> bf16_values(int64_t count, Generator& gen, bool integers) {
  std::vector<uint16_t> bits(static_cast<size_t>(count));
  for (uint16_t& b : bits) b = kernels::to_bf16(integers ? small_integer(gen) : gen.normal());
  return bits;
}

}  // namespace

TEST_CASE("rows_product_bf16 equals its naive loop: exactly on integers, within fp32 sums") {
  Generator gen(21);
  for (const Row& row : kRows) {
    CAPTURE(row.name);
    const size_t outputs = static_cast<size_t>(row.m * row.n);
    for (const bool integers : {true, false}) {
      CAPTURE(integers);
      const std::vector<uint16_t> a = bf16_values(row.rows * row.m, gen, integers);
      const std::vector<uint16_t> b = bf16_values(row.rows * row.n, gen, integers);
      // NaN where nothing is written: the kernel must write every output.
      std::vector<float> got(outputs, std::nanf("")), want(outputs);
      // Row pairs from bf16 bits for a, from floats for b (rounded as they are packed).
      std::vector<float> b_floats(b.size());
      for (size_t i = 0; i < b.size(); ++i) b_floats[i] = kernels::from_bf16(b[i]);
      std::vector<uint32_t> a_pairs(kernels::row_pairs_size(row.rows, row.m), 1),
          b_pairs(kernels::row_pairs_size(row.rows, row.n), 1);
      kernels::pack_row_pairs(a.data(), row.rows, row.m, a_pairs.data());
      kernels::pack_row_pairs(b_floats.data(), row.rows, row.n, b_pairs.data());
      kernels::rows_product_bf16(a_pairs.data(), b_pairs.data(), row.rows, row.m, row.n,
                                 got.data());
      kernels::rows_product_bf16_naive(a.data(), b.data(), row.rows, row.m, row.n, want.data());
      if (integers) {
        // Small integers' products and sums are exact in fp32: a wrong pair, column or row
        // shows as a difference.
        CHECK(got == want);
        continue;
      }
      // Each product of two bf16 is exact in fp32; the fp32 sum of `rows` of them is off by at
      // most rows * 2^-24 of the sum of their magnitudes.
      for (int64_t i = 0; i < row.m; ++i)
        for (int64_t j = 0; j < row.n; ++j) {
          double magnitude = 0;
          for (int64_t r = 0; r < row.rows; ++r)
            magnitude += std::fabs(kernels::from_bf16(a[r * row.m + i]) *
                                   kernels::from_bf16(b[r * row.n + j]));
          const size_t k = static_cast<size_t>(i * row.n + j);
          CAPTURE(i);
          CAPTURE(j);
          CHECK(std::fabs(got[k] - want[k]) <= row.rows * 0x1p-24 * magnitude + 1e-30);
        }
    }
  }
}
