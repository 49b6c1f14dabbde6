// Causal attention products. One table row per (shape, view): each block kernel against its
// naive triple loop (T below, at and across block edges; a strided operand), then gradcheck of
// both ops, and the ops against the plain products they replace.
#include <doctest/doctest.h>
#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/gradcheck.hpp"
#include "engine/kernels/causal_products.hpp"
#include "engine/ops.hpp"
#include "engine/precision.hpp"
#include "tensor_compare.hpp"

using namespace mmx;

namespace {

struct Row {
  std::string name;
  Shape shape;      // [..., T, d] of q, k, v
  bool strided_k;   // k read through a permuted view, as attention's heads are
  float tolerance;  // absolute, against the double loops
};

const Row kRows[] = {
    {"one matrix, T below a block", {5, 3}, false, 1e-5f},
    {"batch, T = one block", {2, 32, 4}, false, 1e-5f},
    {"heads, T across two blocks, strided k", {2, 3, 37, 8}, true, 1e-5f},
    {"T = 70 (three blocks, a partial one)", {1, 70, 16}, false, 1e-4f},
    {"d = 40: two Vecs and a partial one, T = 131, strided k", {2, 1, 131, 40}, true, 1e-4f},
};
// 8.3 MiB of scores: the zeros above the diagonal go past the caches (kStreamingBytes), on rows
// at every alignment. Against the naive loops only (too large for gradcheck).
const Row kStreamingRow = {"T = 515, scores past the streaming size", {8, 515, 8}, false, 1e-4f};

// An operand of `shape`, either dense or a permuted view of the same values.
Tensor operand(const Shape& shape, bool strided, Generator& gen) {
  if (!strided) return Tensor::uniform(shape, gen, -1.0f, 1.0f);
  Shape swapped = shape;
  std::swap(swapped[0], swapped[1]);
  return Tensor::uniform(swapped, gen, -1.0f, 1.0f).transpose(0, 1);
}

Shape square_of(const Shape& shape) {
  Shape s(shape.begin(), shape.end() - 1);
  s.push_back(shape[shape.size() - 2]);
  return s;
}

}  // namespace

TEST_CASE("causal block products match their naive loops") {
  // Fresh buffers filled with nonzero bytes (glibc's malloc perturbation), so zeros the
  // kernels fail to write show; a no-op under a sanitizer's own allocator.
  mallopt(M_PERTURB, 0x5a);
  std::vector<Row> rows(std::begin(kRows), std::end(kRows));
  rows.push_back(kStreamingRow);
  for (const Row& row : rows) {
    CAPTURE(row.name);
    Generator gen(7);
    const Tensor q = Tensor::uniform(row.shape, gen, -1.0f, 1.0f);
    const Tensor k = operand(row.shape, row.strided_k, gen);
    // Nonzero above the diagonal: the kernels must not read it.
    const Tensor p = Tensor::uniform(square_of(row.shape), gen, 0.0f, 1.0f);
    // bf16 against the loops over the same rounded operands: within fp32 summation, where the
    // rounding itself moves the results by ~1e-3.
    for (MatmulPrecision precision : {MatmulPrecision::fp32, MatmulPrecision::bf16}) {
      CAPTURE(to_string(precision));
      for (float scale : {1.0f, 0.35f}) {
        CAPTURE(scale);
        CHECK(max_abs_diff(kernels::causal_scores_forward(q, k, scale, precision),
                           kernels::causal_scores_forward_naive(q, k, scale, precision)) <=
              row.tolerance);
        CHECK(max_abs_diff(kernels::causal_weighted_sum_forward(p, k, scale, precision),
                           kernels::causal_weighted_sum_forward_naive(p, k, scale, precision)) <=
              row.tolerance);
        CHECK(max_abs_diff(kernels::causal_transposed_sum_forward(p, k, scale, precision),
                           kernels::causal_transposed_sum_forward_naive(p, k, scale, precision)) <=
              row.tolerance);
      }
      // The scores' upper triangle is exactly zero.
      const Tensor s = kernels::causal_scores_forward(q, k, 1.0f, precision);
      const int64_t T = row.shape[row.shape.size() - 2];
      bool upper_zero = true;
      for (int64_t i = 0; i < s.numel(); ++i)
        if ((i % T) > (i / T) % T && s.data()[i] != 0.0f) upper_zero = false;
      CHECK(upper_zero);
    }
    // The rounding happened: bf16 is not fp32.
    CHECK(max_abs_diff(kernels::causal_scores_forward(q, k, 1.0f, MatmulPrecision::bf16),
                       kernels::causal_scores_forward(q, k)) > 1e-4f);
  }
  mallopt(M_PERTURB, 0);
}

TEST_CASE("causal ops: gradcheck, and equal to the masked plain products") {
  for (const Row& row : kRows) {
    CAPTURE(row.name);
    Generator gen(11);
    Tensor q = Tensor::uniform(row.shape, gen, -1.0f, 1.0f).requires_grad_();
    Tensor k = operand(row.shape, row.strided_k, gen).requires_grad_();
    Tensor p = Tensor::uniform(square_of(row.shape), gen, 0.0f, 1.0f).requires_grad_();
    GradcheckOptions opt;
    opt.atol = 2e-3f;
    const GradcheckResult scores = gradcheck(
        [](const std::vector<Tensor>& x) { return causal_scores(x[0], x[1]); }, {q, k}, opt);
    CHECK_MESSAGE(scores.ok, scores.message);
    const GradcheckResult scaled = gradcheck(
        [](const std::vector<Tensor>& x) { return causal_scores(x[0], x[1], 0.35f); }, {q, k}, opt);
    CHECK_MESSAGE(scaled.ok, scaled.message);
    const GradcheckResult sums = gradcheck(
        [](const std::vector<Tensor>& x) { return causal_weighted_sum(x[0], x[1]); }, {p, k}, opt);
    CHECK_MESSAGE(sums.ok, sums.message);

    // tril(p) v is the plain product of p with its upper triangle masked to zero.
    const int64_t T = row.shape[row.shape.size() - 2];
    Tensor upper = Tensor::zeros({T, T});
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = i + 1; j < T; ++j) upper.set({i, j}, 1.0f);
    NoGrad no_grad;
    CHECK(max_abs_diff(causal_weighted_sum(p, k), matmul(masked_fill(p, upper, 0.0f), k)) <=
          row.tolerance);
    CHECK(max_abs_diff(causal_scores(q, k),
                       masked_fill(matmul(q, transpose(k, -2, -1)), upper, 0.0f)) <= row.tolerance);
    CHECK(max_abs_diff(causal_scores(q, k, 0.35f),
                       masked_fill(matmul(mul(q, 0.35f), transpose(k, -2, -1)), upper, 0.0f)) <=
          row.tolerance);
  }
  autograd::clear_tape();
}

TEST_CASE("causal ops name themselves and the shapes on bad input") {
  const Tensor a = Tensor::zeros({2, 4, 3});
  CHECK_THROWS_WITH_AS(causal_scores(a, Tensor::zeros({2, 5, 3})),
                       doctest::Contains("causal_scores: need two [..., T, d] operands of one "
                                         "shape, got [2, 4, 3] and [2, 5, 3]"),
                       Error);
  CHECK_THROWS_WITH_AS(causal_weighted_sum(Tensor::zeros({2, 4, 5}), a),
                       doctest::Contains("causal_weighted_sum: need p [..., T, T]"), Error);
  CHECK_THROWS_WITH_AS(causal_weighted_sum(Tensor::zeros({3, 4, 4}), a),
                       doctest::Contains("[3, 4, 4] and [2, 4, 3]"), Error);
}
