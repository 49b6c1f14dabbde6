// Elementwise, reduction and selection ops. One table row per (op, input shapes, view,
// tolerance) drives (1) the op's forward against the naive reference kernel and (2) gradcheck.
// Then the oneDNN backward against its naive reference, max's ties and the primitive cache.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "engine/autograd/no_grad.hpp"
#include "engine/gradcheck.hpp"
#include "engine/kernels/elementwise.hpp"
#include "engine/kernels/gelu.hpp"
#include "engine/kernels/primitive_cache_stats.hpp"
#include "engine/kernels/reduce.hpp"
#include "engine/ops.hpp"

using namespace mmx;
using kernels::BinaryOp;
using kernels::Eltwise;

namespace {

using Inputs = std::vector<Tensor>;
using Fn = std::function<Tensor(const Inputs&)>;

enum class Domain { Any, Positive, AwayFromZero };  // log/sqrt/div want > 0, relu avoids its kink
enum class View { None, Transpose, Expand };        // how input 0 reaches the op

struct Row {
  std::string name;
  std::vector<Shape> shapes;  // the stored (leaf) shapes
  Fn op;                      // the autograd op
  Fn reference;               // the naive kernel
  Domain domain = Domain::Any;
  View view = View::None;  // Transpose swaps the last two axes; Expand goes to `expand_to`
  Shape expand_to = {};
  float tol = 1e-5f;  // forward: |op - reference| <= tol * (1 + |reference|)
};

// The mask used by the selection rows, fixed so that rows are deterministic.
const Tensor& mask_3x1() {
  static const Tensor m = Tensor::from_data({1, 0, 1}, {3, 1});
  return m;
}

Fn naive_binary(BinaryOp op) {
  return [op](const Inputs& x) { return kernels::binary_forward_naive(op, x[0], x[1]); };
}
Fn naive_eltwise(Eltwise kind, float alpha = 0.0f, float beta = 0.0f) {
  return [=](const Inputs& x) { return kernels::eltwise_forward_naive(kind, x[0], alpha, beta); };
}
Fn naive_sum(std::vector<int64_t> axes, bool keepdim, bool average = false) {
  return [=](const Inputs& x) {
    const auto ax = kernels::normalize_axes(axes, x[0].shape(), "sum");
    Tensor s = kernels::sum_forward_naive(x[0], ax, keepdim);
    if (!average) return s;
    int64_t count = 1;
    for (int64_t a : ax) count *= x[0].shape()[static_cast<size_t>(a)];
    return kernels::eltwise_forward_naive(Eltwise::Linear, s, 1.0f / static_cast<float>(count));
  };
}
Fn naive_max(int64_t axis, bool keepdim) {
  return [=](const Inputs& x) {
    const int64_t a = kernels::normalize_axes({axis}, x[0].shape(), "max").front();
    return kernels::max_forward_naive(x[0], a, keepdim).values;
  };
}

const std::vector<Row>& rows() {
  using B = BinaryOp;
  static const std::vector<Row>
      table =
          {
              // --- broadcast binaries
              {.name = "add same shape",
               .shapes = {{2, 3}, {2, 3}},
               .op = [](const Inputs& x) { return add(x[0], x[1]); },
               .reference = naive_binary(B::Add)},
              {.name = "add [3,1]x[1,4]",
               .shapes = {{3, 1}, {1, 4}},
               .op = [](const Inputs& x) { return add(x[0], x[1]); },
               .reference = naive_binary(B::Add)},
              {.name = "add [2,3,4]x[4]",
               .shapes = {{2, 3, 4}, {4}},
               .op = [](const Inputs& x) { return add(x[0], x[1]); },
               .reference = naive_binary(B::Add)},
              {.name = "add [4]x[2,3,4] (swapped for oneDNN)",
               .shapes = {{4}, {2, 3, 4}},
               .op = [](const Inputs& x) { return add(x[0], x[1]); },
               .reference = naive_binary(B::Add)},
              {.name = "add [2,3]x[] scalar-shaped",
               .shapes = {{2, 3}, {}},
               .op = [](const Inputs& x) { return add(x[0], x[1]); },
               .reference = naive_binary(B::Add)},
              {.name = "sub same shape",
               .shapes = {{2, 3}, {2, 3}},
               .op = [](const Inputs& x) { return sub(x[0], x[1]); },
               .reference = naive_binary(B::Sub)},
              {.name = "sub [4]x[2,3,4] (own loop)",
               .shapes = {{4}, {2, 3, 4}},
               .op = [](const Inputs& x) { return sub(x[0], x[1]); },
               .reference = naive_binary(B::Sub)},
              {.name = "mul [3,1]x[1,4]",
               .shapes = {{3, 1}, {1, 4}},
               .op = [](const Inputs& x) { return mul(x[0], x[1]); },
               .reference = naive_binary(B::Mul)},
              {.name = "mul [2,3,4]x[4]",
               .shapes = {{2, 3, 4}, {4}},
               .op = [](const Inputs& x) { return mul(x[0], x[1]); },
               .reference = naive_binary(B::Mul)},
              {.name = "mul []x[2,3]",
               .shapes = {{}, {2, 3}},
               .op = [](const Inputs& x) { return mul(x[0], x[1]); },
               .reference = naive_binary(B::Mul)},
              {.name = "div [2,3,4]x[3,1]",
               .shapes = {{2, 3, 4}, {3, 1}},
               .op = [](const Inputs& x) { return div(x[0], x[1]); },
               .reference = naive_binary(B::Div),
               .domain = Domain::Positive},
              {.name = "div []x[2,3]",
               .shapes = {{}, {2, 3}},
               .op = [](const Inputs& x) { return div(x[0], x[1]); },
               .reference = naive_binary(B::Div),
               .domain = Domain::Positive},
              {.name = "add transposed",
               .shapes = {{4, 3}, {3, 4}},
               .op = [](const Inputs& x) { return add(x[0], x[1]); },
               .reference = naive_binary(B::Add),
               .view = View::Transpose},
              {.name = "mul transposed x [4]",
               .shapes = {{2, 4, 3}, {4}},
               .op = [](const Inputs& x) { return mul(x[0], x[1]); },
               .reference = naive_binary(B::Mul),
               .view = View::Transpose},
              {.name = "add expanded",
               .shapes = {{3, 1}, {3, 4}},
               .op = [](const Inputs& x) { return add(x[0], x[1]); },
               .reference = naive_binary(B::Add),
               .view = View::Expand,
               .expand_to = {3, 4}},
              {.name = "div expanded",
               .shapes = {{1, 4}, {3, 4}},
               .op = [](const Inputs& x) { return div(x[0], x[1]); },
               .reference = naive_binary(B::Div),
               .domain = Domain::Positive,
               .view = View::Expand,
               .expand_to = {3, 4}},
              // --- scalar variants and neg
              {.name = "add scalar",
               .shapes = {{2, 3}},
               .op = [](const Inputs& x) { return add(x[0], 1.5f); },
               .reference = naive_eltwise(Eltwise::Linear, 1.0f, 1.5f)},
              {.name = "sub scalar",
               .shapes = {{2, 3}},
               .op = [](const Inputs& x) { return sub(x[0], 0.5f); },
               .reference = naive_eltwise(Eltwise::Linear, 1.0f, -0.5f)},
              {.name = "mul scalar transposed",
               .shapes = {{4, 3}},
               .op = [](const Inputs& x) { return mul(x[0], -2.0f); },
               .reference = naive_eltwise(Eltwise::Linear, -2.0f),
               .view = View::Transpose},
              {.name = "div scalar",
               .shapes = {{2, 3}},
               .op = [](const Inputs& x) { return div(x[0], 4.0f); },
               .reference = naive_eltwise(Eltwise::Linear, 0.25f)},
              {.name = "neg",
               .shapes = {{5}},
               .op = [](const Inputs& x) { return neg(x[0]); },
               .reference = naive_eltwise(Eltwise::Linear, -1.0f)},
              // --- activations (oneDNN forward and backward)
              {.name = "exp",
               .shapes = {{2, 3, 4}},
               .op = [](const Inputs& x) { return exp(x[0]); },
               .reference = naive_eltwise(Eltwise::Exp)},
              {.name = "exp transposed",
               .shapes = {{4, 3}},
               .op = [](const Inputs& x) { return exp(x[0]); },
               .reference = naive_eltwise(Eltwise::Exp),
               .view = View::Transpose},
              {.name = "log",
               .shapes = {{2, 5}},
               .op = [](const Inputs& x) { return log(x[0]); },
               .reference = naive_eltwise(Eltwise::Log),
               .domain = Domain::Positive},
              {.name = "sqrt",
               .shapes = {{2, 5}},
               .op = [](const Inputs& x) { return sqrt(x[0]); },
               .reference = naive_eltwise(Eltwise::Sqrt),
               .domain = Domain::Positive},
              {.name = "pow 3",
               .shapes = {{2, 5}},
               .op = [](const Inputs& x) { return pow(x[0], 3.0f); },
               .reference = naive_eltwise(Eltwise::Pow, 3.0f),
               .domain = Domain::Positive},
              {.name = "pow -0.5",
               .shapes = {{6}},
               .op = [](const Inputs& x) { return pow(x[0], -0.5f); },
               .reference = naive_eltwise(Eltwise::Pow, -0.5f),
               .domain = Domain::Positive},
              {.name = "tanh",
               .shapes = {{3, 4}},
               .op = [](const Inputs& x) { return tanh(x[0]); },
               .reference = naive_eltwise(Eltwise::Tanh)},
              {.name = "relu",
               .shapes = {{3, 4}},
               .op = [](const Inputs& x) { return relu(x[0]); },
               .reference = naive_eltwise(Eltwise::Relu),
               .domain = Domain::AwayFromZero},
              {.name = "relu expanded",
               .shapes = {{3, 1}},
               .op = [](const Inputs& x) { return relu(x[0]); },
               .reference = naive_eltwise(Eltwise::Relu),
               .domain = Domain::AwayFromZero,
               .view = View::Expand,
               .expand_to = {2, 3, 4}},
              {.name = "gelu tanh",
               .shapes = {{3, 4}},
               .op = [](const Inputs& x) { return gelu(x[0], GeluForm::Tanh); },
               .reference = naive_eltwise(Eltwise::GeluTanh)},
              {.name = "gelu exact",
               .shapes = {{3, 4}},
               .op = [](const Inputs& x) { return gelu(x[0], GeluForm::Exact); },
               .reference = naive_eltwise(Eltwise::GeluExact)},
              // --- reductions
              {.name = "sum all",
               .shapes = {{2, 3, 4}},
               .op = [](const Inputs& x) { return sum(x[0]); },
               .reference = naive_sum({}, false)},
              {.name = "sum axis 1 keepdim",
               .shapes = {{2, 3, 4}},
               .op = [](const Inputs& x) { return sum(x[0], {1}, true); },
               .reference = naive_sum({1}, true)},
              {.name = "sum axes 0,2",
               .shapes = {{2, 3, 4}},
               .op =
                   [](const Inputs& x) {
                     return sum(x[0], {0, 2});
                   },
               .reference = naive_sum({0, 2}, false)},
              {.name = "sum axis -1 transposed",
               .shapes = {{2, 5, 3}},
               .op = [](const Inputs& x) { return sum(x[0], {-1}); },
               .reference = naive_sum({-1}, false),
               .view = View::Transpose},
              {.name = "sum leading axes 0,1",
               .shapes = {{2, 3, 4}},
               .op =
                   [](const Inputs& x) {
                     return sum(x[0], {0, 1});
                   },
               .reference = naive_sum({0, 1}, false)},
              {.name = "sum of a 0-d",
               .shapes = {{}},
               .op = [](const Inputs& x) { return sum(x[0]); },
               .reference = naive_sum({}, false)},
              {.name = "mean axes 1,2 keepdim",
               .shapes = {{2, 3, 4}},
               .op =
                   [](const Inputs& x) {
                     return mean(x[0], {1, 2}, true);
                   },
               .reference = naive_sum({1, 2}, true, true)},
              {.name = "mean all expanded",
               .shapes = {{3, 1}},
               .op = [](const Inputs& x) { return mean(x[0]); },
               .reference = naive_sum({}, false, true),
               .view = View::Expand,
               .expand_to = {3, 4}},
              {.name = "max axis 1",
               .shapes = {{2, 5, 3}},
               .op = [](const Inputs& x) { return max(x[0], 1); },
               .reference = naive_max(1, false)},
              {.name = "max axis -1 keepdim",
               .shapes = {{4, 6}},
               .op = [](const Inputs& x) { return max(x[0], -1, true); },
               .reference = naive_max(-1, true)},
              {.name = "max axis 0 transposed",
               .shapes = {{5, 3}},
               .op = [](const Inputs& x) { return max(x[0], 0); },
               .reference = naive_max(0, false),
               .view = View::Transpose},
              // --- selection
              {.name = "where [3,1] cond, [3,4] x [4]",
               .shapes = {{3, 4}, {4}},
               .op = [](const Inputs& x) { return where(mask_3x1(), x[0], x[1]); },
               .reference =
                   [](const Inputs& x) {
                     return kernels::where_forward_naive(mask_3x1(), x[0], x[1]);
                   }},
              {.name = "where 3-way broadcast",
               .shapes = {{2, 1, 1}, {4}},
               .op = [](const Inputs& x) { return where(mask_3x1(), x[0], x[1]); },
               .reference =
                   [](const Inputs& x) {
                     return kernels::where_forward_naive(mask_3x1(), x[0], x[1]);
                   }},
              {.name = "masked_fill transposed",
               .shapes = {{4, 3}},
               .op = [](const Inputs& x) { return masked_fill(x[0], mask_3x1(), -7.0f); },
               .reference =
                   [](const Inputs& x) {
                     return kernels::where_forward_naive(mask_3x1(), Tensor::scalar(-7.0f), x[0]);
                   },
               .view = View::Transpose},
          };
  return table;
}

Tensor make_input(const Shape& shape, Domain domain, Generator& gen) {
  Tensor t = Tensor::uniform(shape, gen, -2.0f, 2.0f);
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (domain == Domain::Positive) p[i] = 0.5f + std::fabs(p[i]);
    if (domain == Domain::AwayFromZero) p[i] = std::copysign(0.2f + std::fabs(p[i]), p[i]);
  }
  return t;
}

// Input 0 as the op sees it: the row's view of the stored leaf (made inside the checked
// function, so gradcheck perturbs the leaf and the gradient flows back through the view).
Inputs as_viewed(const Row& row, const Inputs& leaves) {
  Inputs in = leaves;
  if (row.view == View::Transpose) in[0] = in[0].transpose(-2, -1);
  if (row.view == View::Expand) in[0] = in[0].expand(row.expand_to);
  return in;
}

float max_relative_diff(const Tensor& got, const Tensor& want) {
  const std::vector<float> g = got.to_vector(), w = want.to_vector();
  float worst = 0.0f;
  for (size_t i = 0; i < g.size(); ++i)
    worst = std::max(worst, std::fabs(g[i] - w[i]) / (1.0f + std::fabs(w[i])));
  return worst;
}

}  // namespace

TEST_CASE("elementwise ops: forward matches the naive reference, gradients match gradcheck") {
  for (const Row& row : rows()) {
    CAPTURE(row.name);
    Generator gen(42);
    Inputs leaves;
    for (const Shape& s : row.shapes)
      leaves.push_back(make_input(s, row.domain, gen).requires_grad_());
    if (row.view == View::Transpose) REQUIRE_FALSE(as_viewed(row, leaves)[0].is_contiguous());

    Tensor got, want;
    {
      NoGrad no_grad;
      got = row.op(as_viewed(row, leaves));
      want = row.reference(as_viewed(row, leaves));
    }
    REQUIRE(got.shape() == want.shape());
    CHECK(got.is_contiguous());
    CHECK(max_relative_diff(got, want) <= row.tol);

    const GradcheckResult r =
        gradcheck([&row](const Inputs& in) { return row.op(as_viewed(row, in)); }, leaves);
    CHECK_MESSAGE(r.ok, r.message);
  }
}

TEST_CASE("oneDNN eltwise backward matches the naive derivative") {
  Generator gen(7);
  const Tensor any = make_input({3, 5}, Domain::AwayFromZero, gen);
  const Tensor positive = make_input({3, 5}, Domain::Positive, gen);
  const Tensor grad_y = Tensor::uniform({3, 5}, gen, -1.0f, 1.0f);
  struct Case {
    Eltwise kind;
    float alpha;
    bool needs_positive;
  };
  for (const Case c :
       {Case{Eltwise::Exp, 0, false}, Case{Eltwise::Log, 0, true}, Case{Eltwise::Sqrt, 0, true},
        Case{Eltwise::Pow, 2.5f, true}, Case{Eltwise::Tanh, 0, false},
        Case{Eltwise::Relu, 0, false}, Case{Eltwise::GeluTanh, 0, false},
        Case{Eltwise::GeluExact, 0, false}, Case{Eltwise::Linear, 3.0f, false}}) {
    CAPTURE(kernels::eltwise_name(c.kind));
    const Tensor& x = c.needs_positive ? positive : any;
    CHECK(max_relative_diff(kernels::eltwise_backward(c.kind, x, grad_y, c.alpha),
                            kernels::eltwise_backward_naive(c.kind, x, grad_y, c.alpha)) <= 1e-5f);
  }
}

TEST_CASE("the own strided binary loop agrees with oneDNN on shapes both can do") {
  Generator gen(3);
  const Tensor a = Tensor::uniform({4, 3, 5}, gen).transpose(0, 2);  // [5, 3, 4], strided
  const Tensor b = Tensor::uniform({3, 1}, gen, 0.5f, 1.0f);
  for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div}) {
    CAPTURE(kernels::binary_op_name(op));
    CHECK(max_relative_diff(kernels::binary_strided(op, a, b), kernels::binary_forward(op, a, b)) <=
          1e-6f);
  }
}

TEST_CASE("large inputs take the parallel paths and still match the references") {
  Generator gen(5);
  const Tensor a = Tensor::uniform({64, 33, 17}, gen, -1.0f, 1.0f);
  const Tensor b = Tensor::uniform({33, 1}, gen, 0.5f, 1.5f);
  CHECK(max_relative_diff(kernels::binary_strided(BinaryOp::Div, a, b),
                          kernels::binary_forward_naive(BinaryOp::Div, a, b)) <= 1e-6f);
  CHECK(max_relative_diff(kernels::sum_forward(a.transpose(0, 1), {0, 2}, false),
                          kernels::sum_forward_naive(a.transpose(0, 1), {0, 2}, false)) <= 1e-4f);
  CHECK(max_relative_diff(kernels::sum_forward(a, {0}, true),
                          kernels::sum_forward_naive(a, {0}, true)) <= 1e-4f);
  // Down the columns in row chunks and column blocks, each with a partial one at the end.
  const Tensor tall = Tensor::uniform({1000, 300}, gen, -1.0f, 1.0f);
  CHECK(max_relative_diff(kernels::sum_forward(tall, {0}, false),
                          kernels::sum_forward_naive(tall, {0}, false)) <= 1e-4f);
  const auto fast = kernels::max_forward(a, 1, false),
             naive = kernels::max_forward_naive(a, 1, false);
  CHECK(fast.indices == naive.indices);
  CHECK(max_relative_diff(fast.values, naive.values) == 0.0f);
}

TEST_CASE("exact GELU and its slope match the double reference from tail to tail") {
  // -12..12 covers the A&S erfc approximation's whole range, both signs and the far tails;
  // 200k elements take the parallel path; the transposed view the strided read.
  const int64_t n = 200000;
  Tensor x = Tensor::empty({n / 100, 100});
  for (int64_t i = 0; i < n; ++i) x.data()[i] = -12.0f + 24.0f * static_cast<float>(i) / (n - 1);
  for (const Tensor& input : {x, x.transpose(0, 1)}) {
    const kernels::GeluWithSlope fast = kernels::gelu_exact_with_slope(input);
    const kernels::GeluWithSlope naive = kernels::gelu_exact_with_slope_naive(input);
    float worst_y = 0.0f, worst_slope = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
      const float scale = 1.0f + std::fabs(naive.y.data()[i]);
      worst_y = std::max(worst_y, std::fabs(fast.y.data()[i] - naive.y.data()[i]) / scale);
      worst_slope = std::max(worst_slope, std::fabs(fast.slope.data()[i] - naive.slope.data()[i]));
    }
    CHECK(worst_y <= 5e-7f);  // measured 2.1e-7 (A&S: 1.5e-7 on erf)
    const Tensor y_alone = kernels::gelu_exact_forward(input);
    CHECK(std::equal(fast.y.data(), fast.y.data() + n, y_alone.data()));
    CHECK(worst_slope <= 5e-7f);  // measured 2.4e-7
  }
}

TEST_CASE("max sends the gradient to the first maximal element") {
  Tensor x = Tensor::from_data({1, 3, 3, 2, 5, 5, 5, 0}, {2, 4}).requires_grad_();
  Tensor y = max(x, 1);
  CHECK(y.to_vector() == std::vector<float>{3, 5});
  y.backward(Tensor::from_data({10, 20}, {2}));
  CHECK(x.grad().to_vector() == std::vector<float>{0, 10, 0, 0, 20, 0, 0, 0});
}

TEST_CASE("where and masked_fill route gradients by the mask; the mask gets none") {
  const Tensor mask = Tensor::from_data({1, 0, 0, 1}, {2, 2});
  Tensor a = Tensor::ones({2, 2}).requires_grad_();
  Tensor b = Tensor::full({2}, 4.0f).requires_grad_();
  Tensor y = where(mask, a, b);
  CHECK(y.to_vector() == std::vector<float>{1, 4, 4, 1});
  sum(y).backward();
  CHECK(a.grad().to_vector() == std::vector<float>{1, 0, 0, 1});
  CHECK(b.grad().to_vector() == std::vector<float>{1, 1});  // each column picks b once

  Tensor x = Tensor::ones({2, 2}).requires_grad_();
  Tensor z = masked_fill(x, mask, -INFINITY);
  CHECK(std::isinf(z.at({0, 0})));
  CHECK(z.at({0, 1}) == 1.0f);
  sum(mul(masked_fill(x, mask, 0.0f), 3.0f)).backward();
  CHECK(x.grad().to_vector() == std::vector<float>{0, 3, 3, 0});
}

TEST_CASE("a second call of the same shape creates no oneDNN primitive") {
  Generator gen(11);
  const Tensor a = Tensor::uniform({5, 7}, gen, 0.5f, 1.0f).requires_grad_();
  const Tensor b = Tensor::uniform({7}, gen, 0.5f, 1.0f);
  auto run = [&] { sum(gelu(add(a, b))).backward(); };
  run();  // creates the binary, gelu forward and gelu backward primitives
  const kernels::PrimitiveCacheStats first = kernels::primitive_cache_stats();
  run();
  const kernels::PrimitiveCacheStats second = kernels::primitive_cache_stats();
  CHECK(second.created == first.created);
  CHECK(second.reused >= first.reused + 3);
}
