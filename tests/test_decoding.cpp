// The one-row decoding steps (engine/decoding.hpp): the gemv kernel against its double loop at
// sizes on and off the 16-float vector, the 8-row block and the 32-row chunk (and large enough
// to run threaded), each row step against the op the full forward runs, and the shape errors.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/autograd/no_grad.hpp"
#include "engine/decoding.hpp"
#include "engine/error.hpp"
#include "engine/kernels/gemv.hpp"
#include "engine/ops.hpp"

using namespace mmx;

namespace {

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

}  // namespace

TEST_CASE("gemv matches its double loop at odd sizes, with and without bias, each output") {
  Generator gen(7);
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    for (int64_t rows : {1, 3, 8, 9, 33, 601})
      for (int64_t cols : {1, 7, 15, 16, 17, 33, 257}) {
        CAPTURE(threads);
        CAPTURE(rows);
        CAPTURE(cols);
        const Tensor w = Tensor::uniform({rows, cols}, gen, -1.0f, 1.0f);
        const Tensor x = Tensor::uniform({cols}, gen, -1.0f, 1.0f);
        const Tensor bias = Tensor::uniform({rows}, gen, -1.0f, 1.0f);
        const Tensor start = Tensor::uniform({rows}, gen, -1.0f, 1.0f);
        for (bool with_bias : {false, true})
          for (kernels::GemvOutput output : {kernels::GemvOutput::Store, kernels::GemvOutput::Add,
                                             kernels::GemvOutput::GeluExact}) {
            CAPTURE(static_cast<int>(output));
            std::vector<float> fast = start.to_vector(), naive = fast;
            const float* b = with_bias ? bias.data() : nullptr;
            kernels::gemv(w.data(), x.data(), b, rows, cols, fast.data(), output);
            kernels::gemv_naive(w.data(), x.data(), b, rows, cols, naive.data(), output);
            // float sums of up to 257 products of magnitude <= 1
            CHECK(max_abs_diff(fast, naive) < 2e-5f);
            if (output == kernels::GemvOutput::Store && !with_bias && rows == 1 && cols == 1)
              CHECK(fast[0] == w.data()[0] * x.data()[0]);
          }
      }
  }
  omp_set_num_threads(2);
}

TEST_CASE("the row steps give what the full forward's ops give") {
  NoGrad no_grad;
  Generator gen(3);
  const int64_t n = 37;
  const Tensor x = Tensor::randn({n}, gen);
  const Tensor weight = Tensor::randn({n}, gen), bias = Tensor::randn({n}, gen);
  Tensor y = Tensor::zeros({n});

  const Tensor w = Tensor::randn({5, n}, gen), b = Tensor::randn({5}, gen);
  Tensor out = Tensor::zeros({5});
  linear_row(x, w, b, out);
  CHECK(max_abs_diff(out.to_vector(), linear(reshape(x, {1, n}), w, b).to_vector()) < 1e-5f);

  // The layer norm, the product and the GELU of an MLP's hidden layer (3601 x 37: threaded), at 1
  // and 2 threads: the same bits each time (a row's sum runs on one thread).
  const Tensor w_big = Tensor::randn({3601, n}, gen), b_big = Tensor::randn({3601}, gen);
  const Tensor reference = gelu(
      linear(layer_norm(reshape(x, {1, n}), weight, bias, 1e-5f), w_big, b_big), GeluForm::Exact);
  std::vector<float> first;
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    omp_set_num_threads(threads);
    Tensor hidden = Tensor::zeros({3601}), plain = Tensor::zeros({3601});
    normed_linear_row(x, {weight, bias, 1e-5f}, w_big, b_big, hidden, /*gelu=*/true);
    CHECK(max_abs_diff(hidden.to_vector(), reference.to_vector()) < 1e-4f);
    // the GELU's bits are the full forward's: sampling and training see the same activations
    normed_linear_row(x, {weight, bias, 1e-5f}, w_big, b_big, plain);
    CHECK(hidden.to_vector() == gelu(plain, GeluForm::Exact).to_vector());
    if (first.empty()) first = hidden.to_vector();
    CHECK(hidden.to_vector() == first);
  }
  omp_set_num_threads(2);

  // sigma(x) for order 1 and 2 against its formula in double
  const MultiMaxParams p1{Tensor::from_data({0.5f, -0.3f, 0.2f, 0.4f}, {4}),
                          Tensor::from_data({-0.2f, 0.3f, -0.5f, 0.6f}, {4}), 1};
  for (int order : {1, 2}) {
    MultiMaxParams p = p1;
    p.order = order;
    multimax_modulate_row(x, p, y);
    const std::vector<float> t = p.t.to_vector(), r = p.r.to_vector(), xs = x.to_vector(),
                             ys = y.to_vector();
    for (int64_t i = 0; i < n; ++i) {
      const double v = xs[i];
      double s = v + t[0] * std::max(r[0] - v, 0.0) + t[1] * std::max(v - r[1], 0.0);
      if (order == 2)
        s += t[2] * std::pow(std::max(r[2] - v, 0.0), 2) +
             t[3] * std::pow(std::max(v - r[3], 0.0), 2);
      CHECK(std::fabs(ys[i] - s) < 1e-5);
    }
  }
}

TEST_CASE("the row steps name the step and the shapes that do not fit") {
  Generator gen(1);
  const Tensor x = Tensor::randn({8}, gen), w = Tensor::randn({4, 8}, gen);
  Tensor y = Tensor::zeros({5});
  CHECK_THROWS_WITH_AS(linear_row(x, w, Tensor(), y),
                       doctest::Contains("linear_row: y must be a dense [4]"), Error);
  Tensor strided = transpose(Tensor::randn({8, 4}, gen), 0, 1);  // [4, 8], not dense
  Tensor y4 = Tensor::zeros({4});
  CHECK_THROWS_WITH_AS(linear_row(x, strided, Tensor(), y4), doctest::Contains("(strided)"), Error);
  CHECK_THROWS_WITH_AS(
      normed_linear_row(x, {Tensor::ones({7}), Tensor::zeros({8}), 1e-5f}, w, Tensor(), y4),
      doctest::Contains("normed_linear_row: layer norm weight"), Error);
  CachedAttentionStep step{.qkv = Tensor::zeros({3 * 8}),
                           .keys = Tensor::zeros({2, 3, 4}),
                           .values = Tensor::zeros({2, 3, 4}),
                           .position = 3,
                           .multimax = nullptr,
                           .scratch = Tensor::zeros({2 * 2 * 3}),
                           .y = Tensor::zeros({8})};
  CHECK_THROWS_WITH_AS(cached_attention_row(step), doctest::Contains("outside the cache"), Error);
  step.position = 0;
  step.scratch = Tensor::zeros({5});
  CHECK_THROWS_WITH_AS(cached_attention_row(step), doctest::Contains("scratch"), Error);
}
