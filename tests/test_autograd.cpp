// The tape: reverse order, accumulation, NoGrad, detach, retain_graph, and the two errors
// (backward twice, in-place change of a saved tensor). Shape-op gradients through gradcheck.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/gradcheck.hpp"
#include "engine/ops.hpp"

using namespace mmx;

TEST_CASE("gradients flow in reverse and accumulate where a tensor is used twice") {
  Tensor a = Tensor::scalar(2.0f).requires_grad_();
  Tensor b = Tensor::scalar(-3.0f).requires_grad_();
  Tensor c = a * b;      // -6
  Tensor d = c + a * a;  // -6 + 4 = -2
  d.backward();
  CHECK(d.item() == -2.0f);
  CHECK(a.grad().item() == doctest::Approx(b.item() + 2 * a.item()));  // -3 + 4
  CHECK(b.grad().item() == doctest::Approx(a.item()));
  // A second forward/backward adds to the leaves' gradients.
  (a * b).backward();
  CHECK(a.grad().item() == doctest::Approx(1.0f - 3.0f));
  a.zero_grad();
  CHECK_FALSE(a.grad().defined());
}

TEST_CASE("shared gradient buffers are not aliased between leaves") {
  Tensor x = Tensor::ones({3}).requires_grad_();
  Tensor y = Tensor::ones({3}).requires_grad_();
  sum(x + y).backward();
  x.grad().fill_(5.0f);  // an optimizer may scale a gradient in place
  CHECK(y.grad().to_vector() == std::vector<float>{1, 1, 1});
}

TEST_CASE("NoGrad records nothing, detach cuts history") {
  Tensor x = Tensor::ones({2}).requires_grad_();
  autograd::clear_tape();
  {
    NoGrad guard;
    Tensor y = x * 2.0f;
    CHECK_FALSE(y.requires_grad());
    CHECK(autograd::tape_size() == 0);
  }
  Tensor z = (x * 3.0f).detach();
  CHECK_FALSE(z.requires_grad());
  CHECK(z.to_vector() == std::vector<float>{3, 3});
  autograd::clear_tape();
}

TEST_CASE("backward twice is an error unless the graph is retained") {
  Tensor x = Tensor::scalar(3.0f).requires_grad_();
  Tensor y = x * x;
  y.backward(/*retain_graph=*/true);
  y.backward();
  CHECK(x.grad().item() == doctest::Approx(12.0f));
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("already freed"), Error);
}

TEST_CASE("backward frees a node's saved state once it ran, unless the graph is retained") {
  for (const bool retain : {false, true}) {
    CAPTURE(retain);
    autograd::clear_tape();
    Tensor x = Tensor::ones({2}).requires_grad_();
    auto sentinel = std::make_shared<int>(0);  // stands for an activation the upper node saved
    const std::weak_ptr<int> watch = sentinel;
    bool upper_freed_before_lower_ran = false;
    Tensor h = Tensor::ones({2});
    autograd::record("lower", {x}, h, {}, [&](const Tensor& g) {
      upper_freed_before_lower_ran = watch.expired();
      return std::vector<Tensor>{g};
    });
    Tensor y = Tensor::ones({2});
    autograd::record("upper", {h}, y, {}, [held = std::move(sentinel)](const Tensor& g) {
      return std::vector<Tensor>{g};
    });
    y.backward(Tensor::ones({2}), retain);
    CHECK(upper_freed_before_lower_ran == !retain);
    CHECK(x.grad().to_vector() == std::vector<float>{1, 1});
  }
  autograd::clear_tape();
}

TEST_CASE("in-place change of a tensor that backward needs is refused") {
  Tensor x = Tensor::from_data({1, 2, 3}, {3}).requires_grad_();
  Tensor w = Tensor::from_data({4, 5, 6}, {3});
  Tensor y = sum(x * w);  // mul saves w for dx
  w.fill_(0.0f);
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("modified in place"), Error);
  autograd::clear_tape();
}

TEST_CASE("retain_grad keeps an intermediate gradient") {
  Tensor x = Tensor::from_data({1, 2}, {2}).requires_grad_();
  Tensor h = x * 3.0f;
  h.retain_grad();
  sum(h * h).backward();
  CHECK(h.grad().to_vector() == std::vector<float>{6, 12});
  CHECK(x.grad().to_vector() == std::vector<float>{18, 36});
}

TEST_CASE("backward on a tensor that needs no grad, or a non-scalar without seed, is an error") {
  CHECK_THROWS_WITH_AS(Tensor::ones({2}).backward(Tensor::ones({2})),
                       doctest::Contains("does not require grad"), Error);
  Tensor x = Tensor::ones({2}).requires_grad_();
  CHECK_THROWS_WITH_AS((x * 2.0f).backward(), doctest::Contains("seed"), Error);
  autograd::clear_tape();
}

// One row per shape op: the function of the input, and the input's shape.
struct ShapeOpCase {
  const char* name;
  Shape shape;
  std::function<Tensor(const Tensor&)> fn;
};

TEST_CASE("shape ops: gradients match central differences") {
  const std::vector<ShapeOpCase> cases = {
      {"reshape",
       {2, 6},
       [](const Tensor& x) {
         return x.reshape({3, -1});
       }},
      {"reshape of a transposed view",
       {3, 4},
       [](const Tensor& x) { return x.transpose(0, 1).reshape({12}); }},
      {"permute",
       {2, 3, 4},
       [](const Tensor& x) {
         return x.permute({2, 0, 1});
       }},
      {"transpose", {3, 5}, [](const Tensor& x) { return x.transpose(0, 1); }},
      {"slice", {4, 5}, [](const Tensor& x) { return x.slice(1, 1, 4); }},
      // Slices add into windows of one gradient (attention's q, k, v): disjoint, overlapping,
      // beside another use of the whole tensor, and of a transposed view.
      {"three slices of one tensor",
       {2, 6, 3},
       [](const Tensor& x) {
         return x.slice(1, 0, 2) + x.slice(1, 2, 4) * 2.0f + x.slice(1, 4, 6) * 3.0f;
       }},
      {"overlapping slices and the whole",
       {4, 3},
       [](const Tensor& x) {
         return cat({x.slice(0, 0, 3) * 2.0f, x.slice(0, 1, 4), x}, 0);
       }},
      {"slices of a transposed view",
       {3, 4},
       [](const Tensor& x) {
         const Tensor t = x.transpose(0, 1);
         return t.slice(1, 1, 3) * t.slice(1, 0, 2);
       }},
      {"expand",
       {3, 1},
       [](const Tensor& x) {
         return x.expand({2, 3, 4});
       }},
      {"contiguous", {3, 4}, [](const Tensor& x) { return x.transpose(0, 1).contiguous(); }},
      {"cat",
       {2, 3},
       [](const Tensor& x) {
         return cat({x, x.slice(1, 0, 2), x}, 1);
       }},
      {"split",
       {2, 6},
       [](const Tensor& x) {
         return split(x, {2, 4}, 1)[1];
       }},
  };
  for (const ShapeOpCase& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    Generator gen(3);
    Tensor x = Tensor::randn(c.shape, gen).requires_grad_();
    const GradcheckResult r =
        gradcheck([&](const std::vector<Tensor>& in) { return c.fn(in[0]); }, {x});
    CHECK_MESSAGE(r.ok, r.message);
  }
}
