// The dense fast paths added for training speed (docs/performance.md) against their general
// strided/overlap-safe paths: to_vector, copy_, add_, gradient accumulation and sum_to_shape.
#include <doctest/doctest.h>

#include "engine/autograd/tape.hpp"
#include "engine/ops.hpp"
#include "engine/random.hpp"
#include "engine/thread_count.hpp"

using namespace mmx;

namespace {

// Row-major elements read one by one through at(): the obvious reference.
std::vector<float> elements(const Tensor& t) {
  std::vector<float> out;
  const Shape& s = t.shape();
  REQUIRE(s.size() == 2);
  for (int64_t i = 0; i < s[0]; ++i)
    for (int64_t j = 0; j < s[1]; ++j) out.push_back(t.at({i, j}));
  return out;
}

Tensor counting(const Shape& shape) {
  return Tensor::arange(0, static_cast<float>(numel(shape))).reshape(shape);
}

}  // namespace

TEST_CASE("to_vector: dense and transposed views give row-major elements") {
  const Tensor m = counting({3, 4});
  CHECK(m.to_vector() == elements(m));
  const Tensor t = m.transpose(0, 1);
  REQUIRE_FALSE(t.is_contiguous());
  CHECK(t.to_vector() == elements(t));
  CHECK(t.to_vector() == std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
}

TEST_CASE("copy_: dense, into a strided window, and within one storage") {
  SUBCASE("dense into dense") {
    Tensor dst = Tensor::zeros({2, 3});
    dst.copy_(counting({2, 3}));
    CHECK(dst.to_vector() == std::vector<float>{0, 1, 2, 3, 4, 5});
  }
  SUBCASE("dense source into a column window of another tensor") {
    Tensor dst = Tensor::zeros({2, 4});
    slice(dst, 1, 1, 3).copy_(counting({2, 2}));
    CHECK(dst.to_vector() == std::vector<float>{0, 0, 1, 0, 0, 2, 3, 0});
  }
  SUBCASE("dense source into a transposed view (rows not dense)") {
    Tensor base = Tensor::zeros({3, 2});
    base.transpose(0, 1).copy_(counting({2, 3}));
    CHECK(base.to_vector() == std::vector<float>{0, 3, 1, 4, 2, 5});
  }
  SUBCASE("dense source into a 3-d window") {
    Tensor dst = Tensor::zeros({2, 2, 3});
    slice(dst, 2, 1, 3).copy_(counting({2, 2, 2}));
    CHECK(dst.to_vector() == std::vector<float>{0, 0, 1, 0, 2, 3, 0, 4, 5, 0, 6, 7});
  }
  SUBCASE("overlapping dense ranges of one storage, both directions") {
    Tensor x = Tensor::arange(0, 6);
    slice(x, 0, 0, 4).copy_(slice(x, 0, 2, 6));
    CHECK(x.to_vector() == std::vector<float>{2, 3, 4, 5, 4, 5});
    Tensor y = Tensor::arange(0, 6);
    slice(y, 0, 2, 6).copy_(slice(y, 0, 0, 4));
    CHECK(y.to_vector() == std::vector<float>{0, 1, 0, 1, 2, 3});
  }
  SUBCASE("a matrix from its own transpose") {
    Tensor m = counting({3, 3});
    m.copy_(m.transpose(0, 1));
    CHECK(m.to_vector() == std::vector<float>{0, 3, 6, 1, 4, 7, 2, 5, 8});
  }
}

TEST_CASE("add_: dense, self, overlapping and strided operands") {
  SUBCASE("dense with alpha") {
    Tensor x = Tensor::ones({4});
    x.add_(Tensor::arange(0, 4), 2.0f);
    CHECK(x.to_vector() == std::vector<float>{1, 3, 5, 7});
  }
  SUBCASE("a tensor added to itself") {
    Tensor x = Tensor::arange(0, 4);
    x.add_(x, 2.0f);
    CHECK(x.to_vector() == std::vector<float>{0, 3, 6, 9});
  }
  SUBCASE("overlapping ranges read the values from before the update") {
    Tensor x = Tensor::arange(0, 6);
    slice(x, 0, 2, 6).add_(slice(x, 0, 0, 4));
    CHECK(x.to_vector() == std::vector<float>{0, 1, 2, 4, 6, 8});
  }
  SUBCASE("a transposed operand") {
    Tensor m = Tensor::zeros({2, 3});
    m.add_(counting({3, 2}).transpose(0, 1));
    CHECK(m.to_vector() == std::vector<float>{0, 2, 4, 1, 3, 5});
  }
}

TEST_CASE("gradients accumulate the same through dense and strided paths") {
  const Tensor c1 = counting({2, 3});
  const Tensor c2 = counting({3, 2}) * 10.0f;
  SUBCASE("two dense uses") {
    Tensor x = Tensor::zeros({2, 3}).requires_grad_();
    (sum(x * c1) + sum(x * (c1 * 3.0f))).backward();
    CHECK(x.grad().to_vector() == (c1 * 4.0f).to_vector());
  }
  SUBCASE("a dense and a transposed use") {
    Tensor x = Tensor::zeros({2, 3}).requires_grad_();
    (sum(x * c1) + sum(transpose(x, 0, 1) * c2)).backward();
    CHECK(x.grad().is_contiguous());
    CHECK(x.grad().to_vector() == std::vector<float>{0, 21, 42, 13, 34, 55});
  }
}

TEST_CASE("sum_to_shape reduces dense and transposed gradients alike") {
  const Tensor g = counting({3, 2});
  const Tensor gt = counting({2, 3}).transpose(0, 1);  // the same shape, strided
  CHECK(autograd::sum_to_shape(g, {2}).to_vector() == std::vector<float>{6, 9});
  CHECK(autograd::sum_to_shape(gt, {2}).to_vector() == std::vector<float>{3, 12});
  CHECK(autograd::sum_to_shape(gt, {3, 1}).to_vector() == std::vector<float>{3, 5, 7});
}

TEST_CASE("sum_to_shape over leading axes: each column summed in row order, on any thread count") {
  // [7, 40, 300] is threaded (84,000 elements) and ends in a partial 256-column block.
  Generator gen(3);
  const Tensor g = Tensor::uniform({7, 40, 300}, gen, -1.0f, 1.0f);
  const std::vector<float> gv = g.to_vector();
  std::vector<float> want(40 * 300, 0.0f);
  for (size_t r = 0; r < 7; ++r)
    for (size_t c = 0; c < want.size(); ++c) want[c] += gv[r * want.size() + c];
  for (int threads : {1, 2, 3}) {
    CAPTURE(threads);
    FixedThreadCount scope(threads);
    CHECK(autograd::sum_to_shape(g, {40, 300}).to_vector() == want);
  }
}
