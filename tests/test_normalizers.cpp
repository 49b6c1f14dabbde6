// MultiMax and its peers (softmax_temperature, sparsemax, entmax15, evsoftmax). One table row
// per (op, shape set) drives fast-vs-naive forward and backward kernels and gradcheck of the op
// (t and r included); then masked-column invariance over random shapes, the edge cases (fully
// masked rows, 1e4 inputs, ties, one column), the kink convention by hand, and errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/gradcheck.hpp"
#include "engine/kernels/entmax15.hpp"
#include "engine/kernels/evsoftmax.hpp"
#include "engine/kernels/masked_softmax.hpp"
#include "engine/kernels/multimax.hpp"
#include "engine/kernels/sparsemax.hpp"
#include "engine/normalizers.hpp"

using namespace mmx;

namespace {

// One normalizer seen through a common shape: forward kernels (fast, naive), backward kernels
// returning the gradients of {x, params...}, and the autograd op on {x, params...}.
struct Normalizer {
  std::string name;
  std::vector<Tensor> params;  // learnable extras (MultiMax's t and r), requiring grad
  std::function<Tensor(const Tensor& x, const Tensor& mask, bool causal, bool fast)> forward;
  std::function<std::vector<Tensor>(const Tensor& x, const Tensor& p, const Tensor& g,
                                    const Tensor& mask, bool causal, bool fast)>
      backward;
  std::function<Tensor(const std::vector<Tensor>& inputs, const Tensor& mask, bool causal)> op;
};

Normalizer multimax_normalizer(int order, int64_t heads) {
  // Breakpoints near +-0.5 and +-1; away_from_kinks keeps the random inputs off them.
  const Shape shape = heads == 0 ? Shape{4} : Shape{heads, 4};
  Generator gen(7);
  Tensor t = Tensor::uniform(shape, gen, 0.1f, 0.6f).requires_grad_();
  std::vector<float> rv;
  for (int64_t h = 0; h < std::max<int64_t>(heads, 1); ++h)
    for (float v : {-0.5f, 0.5f, -1.0f, 1.0f}) rv.push_back(v + 0.1f * static_cast<float>(h));
  Tensor r = Tensor::from_data(rv, shape).requires_grad_();
  Normalizer n;
  n.name = "multimax order " + std::to_string(order) + (heads ? " per head" : " per layer");
  n.params = {t, r};
  n.forward = [=](const Tensor& x, const Tensor& mask, bool causal, bool fast) {
    const MultiMaxParams params{t, r, order};
    return fast ? kernels::multimax_forward(x, params, mask, causal)
                : kernels::multimax_forward_naive(x, params, mask, causal);
  };
  n.backward = [=](const Tensor& x, const Tensor& p, const Tensor& g, const Tensor&, bool causal,
                   bool fast) {
    const MultiMaxParams params{t, r, order};
    const kernels::MultiMaxGradients d = fast ? kernels::multimax_backward(x, p, g, params, causal)
                                              : kernels::multimax_backward_naive(x, p, g, params);
    return std::vector<Tensor>{d.dx, d.dt, d.dr};
  };
  n.op = [=](const std::vector<Tensor>& in, const Tensor& mask, bool causal) {
    return multimax(in[0], MultiMaxParams{in[1], in[2], order}, mask, causal);
  };
  return n;
}

// For the peers whose backward needs only p and g.
Normalizer peer(
    std::string name, std::function<Tensor(const Tensor&, const Tensor&, bool)> fast,
    std::function<Tensor(const Tensor&, const Tensor&, bool)> naive,
    std::function<Tensor(const Tensor&, const Tensor&, const Tensor&, bool)> backward_fast,
    std::function<Tensor(const Tensor&, const Tensor&)> backward_naive,
    std::function<Tensor(const Tensor&, const Tensor&, bool)> op) {
  Normalizer n;
  n.name = std::move(name);
  n.forward = [=](const Tensor& x, const Tensor& mask, bool causal, bool use_fast) {
    return use_fast ? fast(x, mask, causal) : naive(x, mask, causal);
  };
  n.backward = [=](const Tensor&, const Tensor& p, const Tensor& g, const Tensor& mask, bool causal,
                   bool use_fast) {
    return std::vector<Tensor>{use_fast ? backward_fast(p, g, mask, causal) : backward_naive(p, g)};
  };
  n.op = [=](const std::vector<Tensor>& in, const Tensor& mask, bool causal) {
    return op(in[0], mask, causal);
  };
  return n;
}

Normalizer normalizer(const std::string& name) {
  using namespace kernels;
  const float temp = 0.7f;
  if (name == "multimax1") return multimax_normalizer(1, 0);
  if (name == "multimax2") return multimax_normalizer(2, 0);
  if (name == "multimax2_heads") return multimax_normalizer(2, 3);
  if (name == "softmax_temperature")
    return peer(
        name, [=](auto& x, auto& m, bool c) { return softmax_temperature_forward(x, temp, m, c); },
        [=](auto& x, auto& m, bool c) { return softmax_temperature_forward_naive(x, temp, m, c); },
        [=](auto& p, auto& g, auto& m, bool c) {
          return softmax_rows_backward(p, g, 1.0f / temp, m, c);
        },
        [=](auto& p, auto& g) { return softmax_rows_backward_naive(p, g, 1.0f / temp); },
        [=](auto& x, auto& m, bool c) { return softmax_temperature(x, temp, m, c); });
  if (name == "sparsemax")
    return peer(
        name, sparsemax_forward, sparsemax_forward_naive,
        [](auto& p, auto& g, auto&, bool) { return sparsemax_backward(p, g); },
        sparsemax_backward_naive, [](auto& x, auto& m, bool c) { return sparsemax(x, m, c); });
  if (name == "entmax15")
    return peer(
        name, entmax15_forward, entmax15_forward_naive,
        [](auto& p, auto& g, auto&, bool) { return entmax15_backward(p, g); },
        entmax15_backward_naive, [](auto& x, auto& m, bool c) { return entmax15(x, m, c); });
  const bool training = name == "evsoftmax_training";
  const float eps = 1e-2f;  // large enough that gradcheck sees the below-mean entries
  return peer(
      name, [=](auto& x, auto& m, bool c) { return evsoftmax_forward(x, m, c, training, eps); },
      [=](auto& x, auto& m, bool c) { return evsoftmax_forward_naive(x, m, c, training, eps); },
      [](auto& p, auto& g, auto&, bool) { return softmax_rows_backward(p, g, 1.0f); },
      [](auto& p, auto& g) { return softmax_rows_backward_naive(p, g, 1.0f); },
      [=](auto& x, auto& m, bool c) { return evsoftmax(x, m, c, training, eps); });
}

struct Shapes {
  Shape x;
  Shape mask;  // empty: no mask
  bool causal = false;
};

// Masks are 0 / -inf; shapes cover broadcast masks, causal, one column and a length-1 axis.
const std::vector<Shapes> kGeneralShapes = {
    {{7}, {}, false},      {{5, 9}, {5, 9}, false},       {{2, 4, 6}, {6}, false},
    {{2, 5, 5}, {}, true}, {{2, 4, 6}, {4, 1}, true},     {{3, 1}, {}, false},
    {{2, 1, 4}, {}, true}, {{4, 3, 2}, {1, 3, 2}, false},
};
const std::vector<Shapes> kHeadShapes = {
    {{2, 3, 4, 4}, {}, true}, {{1, 3, 5, 7}, {5, 7}, false}, {{2, 3, 1, 1}, {}, false}};

struct Case {
  const char* op;
  const std::vector<Shapes>* shapes;
  float tol;  // fast vs naive: |a - b| <= tol * (1 + |b|)
};
const std::vector<Case> kCases = {
    {"softmax_temperature", &kGeneralShapes, 2e-6f}, {"multimax1", &kGeneralShapes, 2e-6f},
    {"multimax2", &kGeneralShapes, 2e-6f},           {"multimax2_heads", &kHeadShapes, 2e-6f},
    {"sparsemax", &kGeneralShapes, 2e-6f},           {"entmax15", &kGeneralShapes, 2e-6f},
    {"evsoftmax", &kGeneralShapes, 2e-6f},           {"evsoftmax_training", &kGeneralShapes, 2e-6f},
};

Tensor random_mask(const Shape& shape, Generator& gen) {
  Tensor m = Tensor::uniform(shape, gen);
  for (int64_t i = 0; i < m.numel(); ++i) m.data()[i] = m.data()[i] < 0.3f ? -INFINITY : 0.0f;
  return m;
}

// Keeps every score at least 0.02 from MultiMax's breakpoints, the peers' kinks being unlikely
// at fixed seeds: central differences with eps 1e-3 then never straddle a kink.
Tensor away_from_kinks(Tensor x) {
  for (int64_t i = 0; i < x.numel(); ++i) {
    float& v = x.data()[i];
    for (float k = -1.0f; k <= 1.3f; k += 0.1f)
      if (std::fabs(v - k) < 0.02f) v = k + (v < k ? -0.02f : 0.02f);
  }
  return x;
}

void check_close(const Tensor& got, const Tensor& want, float tol, const std::string& what) {
  REQUIRE(got.shape() == want.shape());
  const std::vector<float> a = got.to_vector(), b = want.to_vector();
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(what << " element " << i << ": " << a[i] << " vs " << b[i]);
    REQUIRE(std::isfinite(a[i]));
    REQUIRE(std::fabs(a[i] - b[i]) <= tol * (1.0f + std::fabs(b[i])));
  }
}

}  // namespace

TEST_CASE("normalizers: fast vs naive kernels and gradcheck, one row per op and shape set") {
  for (const Case& c : kCases) {
    Normalizer n = normalizer(c.op);
    for (const Shapes& s : *c.shapes) {
      const std::string label = n.name + " x" + to_string(s.x) + " mask" + to_string(s.mask) +
                                (s.causal ? " causal" : "");
      CAPTURE(label);
      Generator gen(42);
      const Tensor x = away_from_kinks(Tensor::randn(s.x, gen));
      const Tensor mask = s.mask.empty() ? Tensor() : random_mask(s.mask, gen);
      const Tensor p = n.forward(x, mask, s.causal, true);
      check_close(p, n.forward(x, mask, s.causal, false), c.tol, label + " forward");

      const Tensor g = Tensor::randn(s.x, gen);
      const std::vector<Tensor> fast = n.backward(x, p, g, mask, s.causal, true);
      const std::vector<Tensor> naive = n.backward(x, p, g, mask, s.causal, false);
      for (size_t k = 0; k < fast.size(); ++k)
        check_close(fast[k], naive[k], 1e-5f, label + " backward " + std::to_string(k));

      std::vector<Tensor> inputs{x.detach().requires_grad_()};
      for (const Tensor& param : n.params) inputs.push_back(param);
      const GradcheckResult result = gradcheck(
          [&](const std::vector<Tensor>& in) { return n.op(in, mask, s.causal); }, inputs);
      INFO(result.message);
      CHECK(result.ok);
    }
  }
}

TEST_CASE("normalizers: appending masked columns leaves every row bit for bit unchanged") {
  const char* ops[] = {"softmax_temperature", "multimax1", "multimax2",
                       "sparsemax",           "entmax15",  "evsoftmax",
                       "evsoftmax_training"};
  Generator gen(3);
  for (const char* name : ops) {
    Normalizer n = normalizer(name);
    for (int trial = 0; trial < 12; ++trial) {
      const int64_t rows = 1 + static_cast<int64_t>(gen.below(6));
      const int64_t cols = 1 + static_cast<int64_t>(gen.below(40));
      const int64_t extra = 1 + static_cast<int64_t>(gen.below(20));
      const std::string label =
          std::string(name) + " rows, cols, extra " + to_string({rows, cols, extra});
      CAPTURE(label);
      const Tensor x = Tensor::randn({rows, cols}, gen, 0.0f, 3.0f);
      const Tensor mask = random_mask({rows, cols}, gen);
      // The wide row: the same scores and mask, then `extra` masked columns of random scores.
      Tensor wide_x = Tensor::randn({rows, cols + extra}, gen, 0.0f, 3.0f);
      Tensor wide_mask = Tensor::full({rows, cols + extra}, -INFINITY);
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) {
          wide_x.set({i, j}, x.at({i, j}));
          wide_mask.set({i, j}, mask.at({i, j}));
        }
      const Tensor p = n.forward(x, mask, false, true);
      const Tensor wide_p = n.forward(wide_x, wide_mask, false, true);
      const Tensor g = Tensor::randn({rows, cols + extra}, gen);
      const Tensor wide_dx = n.backward(wide_x, wide_p, g, Tensor(), false, true)[0];
      const Tensor dx =
          n.backward(x, p, g.slice(1, 0, cols).contiguous(), Tensor(), false, true)[0];
      for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < cols; ++j) {
          REQUIRE(wide_p.at({i, j}) == p.at({i, j}));
          REQUIRE(std::fabs(wide_dx.at({i, j}) - dx.at({i, j})) <= 1e-6f);
        }
        for (int64_t j = cols; j < cols + extra; ++j) {
          REQUIRE(wide_p.at({i, j}) == 0.0f);
          REQUIRE(wide_dx.at({i, j}) == 0.0f);
        }
      }
    }
  }
}

TEST_CASE("normalizers: fully masked rows, huge inputs, ties, -inf scores, one column") {
  const char* ops[] = {"softmax_temperature", "multimax1", "multimax2",
                       "sparsemax",           "entmax15",  "evsoftmax",
                       "evsoftmax_training"};
  for (const char* name : ops) {
    Normalizer n = normalizer(name);
    const std::string op_name = name;
    CAPTURE(op_name);
    // Row 0 fully masked, row 1 open: zeros and zero gradient, never NaN.
    const Tensor x = Tensor::from_data({1, 2, 3, 4, 5, 6}, {2, 3});
    const Tensor mask = Tensor::from_data({-INFINITY, -INFINITY, -INFINITY, 0, 0, 0}, {2, 3});
    std::vector<Tensor> inputs{x.detach().requires_grad_()};
    for (const Tensor& param : n.params) inputs.push_back(param);
    const Tensor p = n.op(inputs, mask, false);
    p.backward(Tensor::from_data({1, -2, 3, 0.5f, -1, 2}, {2, 3}));
    for (int64_t j = 0; j < 3; ++j) {
      CHECK(p.at({0, j}) == 0.0f);
      CHECK(inputs[0].grad().at({0, j}) == 0.0f);
    }
    for (const Tensor& param : n.params) {
      for (float v : param.grad().to_vector()) CHECK(std::isfinite(v));
      Tensor(param).zero_grad();
    }

    // Scores of 1e4 in magnitude, ties, -inf in x itself: fast agrees with naive, rows sum to 1.
    const Tensor big = Tensor::from_data(
        {1e4f, -1e4f, 9999.5f, 1e4f, 2, 2, 2, 2, -INFINITY, 0.5f, -INFINITY, 0.25f}, {3, 4});
    const Tensor pb = n.forward(big, Tensor(), false, true);
    // fp32 holds a modulated score near 1e4 only to ~1e-3, and exp turns that into a relative
    // error of ~1e-3 * |dp/ds|: the double-precision reference is met to 2e-4, not 2e-6.
    check_close(pb, n.forward(big, Tensor(), false, false), 2e-4f, "large, tied, -inf");
    for (int64_t i = 0; i < 3; ++i)
      CHECK(pb.at({i, 0}) + pb.at({i, 1}) + pb.at({i, 2}) + pb.at({i, 3}) ==
            doctest::Approx(1.0f).epsilon(1e-5));
    CHECK(pb.at({1, 0}) == doctest::Approx(0.25f));  // four equal scores share evenly
    CHECK(pb.at({2, 0}) == 0.0f);
    const Tensor gb = Tensor::ones({3, 4});
    for (const Tensor& d : n.backward(big, pb, gb, Tensor(), false, true))
      for (float v : d.to_vector()) CHECK(std::isfinite(v));

    // One column: probability 1 (or 0 when masked), zero gradient.
    const Tensor one = Tensor::from_data({-3, 1e4f, 0.25f}, {3, 1});
    const Tensor p1 = n.forward(one, Tensor::from_data({0, 0, -INFINITY}, {3, 1}), false, true);
    CHECK(p1.to_vector() == std::vector<float>{1, 1, 0});
  }
}

TEST_CASE("sparsemax, entmax15: distributions for any finite input, huge, tiny, tied, mixed") {
  // Next to a max of 1e16, max - 1 rounds to max: the support test z > max - 1 used to fail, and
  // SparseMax gave [1e16, 0]. Each row is one input; the expected weights are exact (EntMax-1.5
  // of [0, -0.5] / 2: tau = -1/8 - sqrt(31/64), p = (u - tau)^2).
  struct Row {
    std::vector<float> x;
    std::vector<float> sparsemax, entmax15;
  };
  const float e1 = 0.6739926363f, e2 = 0.3260073637f;
  const Row rows[] = {
      {{1e16f, 0}, {1, 0}, {1, 0}},
      {{0, 1e16f}, {0, 1}, {0, 1}},
      {{-1e16f, 0, -1e16f}, {0, 1, 0}, {0, 1, 0}},
      {{1e30f, 1e30f}, {0.5f, 0.5f}, {0.5f, 0.5f}},
      {{3e38f, -3e38f, 3e38f}, {0.5f, 0, 0.5f}, {0.5f, 0, 0.5f}},
      {{1e-30f, -1e-30f}, {0.5f, 0.5f}, {0.5f, 0.5f}},
      {{1e16f, 1, 0}, {1, 0, 0}, {1, 0, 0}},
      {{1e6f, 999999.5f, 0}, {0.75f, 0.25f, 0}, {e1, e2, 0}},
      {{-1e20f, -1e20f, -1e20f, -1e20f},
       {0.25f, 0.25f, 0.25f, 0.25f},
       {0.25f, 0.25f, 0.25f, 0.25f}},
  };
  for (const char* name : {"sparsemax", "entmax15"}) {
    Normalizer n = normalizer(name);
    for (const Row& row : rows) {
      const std::vector<float>& want =
          std::string(name) == "sparsemax" ? row.sparsemax : row.entmax15;
      const auto cols = static_cast<int64_t>(row.x.size());
      const std::string label =
          std::string(name) + " of " + std::to_string(row.x[0]) + ", " + std::to_string(row.x[1]);
      CAPTURE(label);
      const Tensor x = Tensor::from_data(row.x, {1, cols});
      const Tensor expected = Tensor::from_data(want, {1, cols});
      const Tensor p = n.forward(x, Tensor(), false, true);
      check_close(p, expected, 1e-6f, label + " fast");
      check_close(n.forward(x, Tensor(), false, false), expected, 1e-6f, label + " naive");
      // The backward reads p alone; with p right it is the Jacobian of the true mapping.
      Generator gen(7);
      const Tensor g = Tensor::randn({1, cols}, gen);
      const std::vector<Tensor> fast = n.backward(x, p, g, Tensor(), false, true);
      const std::vector<Tensor> naive = n.backward(x, p, g, Tensor(), false, false);
      check_close(fast[0], naive[0], 1e-5f, label + " backward");
      if (std::count(want.begin(), want.end(), 1.0f) == 1)  // one winner: nothing moves it
        for (float d : fast[0].to_vector()) CHECK(d == 0.0f);
    }
  }
}

TEST_CASE("multimax: at a kink (x exactly at r_k) the derivative is the one-sided 0") {
  // t = [0.5, 0.25, 0.125, 0.0625], r = [0, 1, -1, 2]; x = [0, 1, -1] puts x0 on r0, x1 on r1
  // and x2 on r2. By hand: sigma(x) = [0, 1, -1 + 0.5 * 1] = [0, 1, -0.5]; the slopes are
  // [1, 1, 1 - t0] = [1, 1, 0.5] (strict brackets: [0 < 0] = [1 > 1] = 0).
  const Tensor t = Tensor::from_data({0.5f, 0.25f, 0.125f, 0.0625f}, {4}).requires_grad_();
  const Tensor r = Tensor::from_data({0, 1, -1, 2}, {4}).requires_grad_();
  const Tensor x = Tensor::from_data({0, 1, -1}, {1, 3}).requires_grad_();
  const Tensor p = multimax(x, MultiMaxParams{t, r, 2});
  const double z = 1.0 + std::exp(1.0) + std::exp(-0.5);
  const double p0 = 1.0 / z, p1 = std::exp(1.0) / z, p2 = std::exp(-0.5) / z;
  CHECK(p.at({0, 0}) == doctest::Approx(p0));
  CHECK(p.at({0, 1}) == doctest::Approx(p1));
  CHECK(p.at({0, 2}) == doctest::Approx(p2));
  // g = [1, 0, 0]: ds = p * (g - p0) = [p0 (1 - p0), -p1 p0, -p2 p0].
  p.backward(Tensor::from_data({1, 0, 0}, {1, 3}));
  const double ds0 = p0 * (1 - p0), ds1 = -p1 * p0, ds2 = -p2 * p0;
  CHECK(x.grad().at({0, 0}) == doctest::Approx(ds0));
  CHECK(x.grad().at({0, 1}) == doctest::Approx(ds1));
  CHECK(x.grad().at({0, 2}) == doctest::Approx(0.5 * ds2));
  // Only x2 < r0 contributes: dt0 = ds2 * relu(r0 - x2) = ds2, dr0 = t0 * ds2; every other
  // relu and bracket is 0 at these points (x1 = r1: [1 > 1] = 0; x2 = r2: relu(0) = 0).
  const std::vector<float> dt = t.grad().to_vector(), dr = r.grad().to_vector();
  CHECK(dt[0] == doctest::Approx(ds2));
  CHECK(dr[0] == doctest::Approx(0.5 * ds2));
  for (int k = 1; k < 4; ++k) {
    CHECK(dt[k] == 0.0f);
    CHECK(dr[k] == 0.0f);
  }
}

TEST_CASE("normalizers: bad input raises mmx::Error naming the op and the shapes") {
  const Tensor x = Tensor::zeros({2, 3, 4, 4});
  const Tensor t4 = Tensor::zeros({4});
  CHECK_THROWS_WITH_AS(
      sparsemax(x, Tensor::zeros({3, 3})),
      doctest::Contains("sparsemax: shapes do not broadcast: [3, 3] and [2, 3, 4, 4]"), Error);
  CHECK_THROWS_WITH_AS(evsoftmax(x, Tensor::zeros({2, 2, 3, 4, 4})),
                       doctest::Contains("evsoftmax: mask of shape [2, 2, 3, 4, 4] does not "
                                         "broadcast to the input's shape [2, 3, 4, 4]"),
                       Error);
  CHECK_THROWS_WITH_AS(entmax15(Tensor::zeros({4}), Tensor(), true),
                       doctest::Contains("entmax15: causal needs at least 2 axes"), Error);
  CHECK_THROWS_WITH_AS(multimax(x, MultiMaxParams{Tensor::zeros({2, 4}), Tensor::zeros({2, 4})}),
                       doctest::Contains("per-head parameters of shape [2, 4]"), Error);
  CHECK_THROWS_WITH_AS(multimax(x, MultiMaxParams{Tensor::zeros({3}), Tensor::zeros({3})}),
                       doctest::Contains("multimax: t and r must have shape [4]"), Error);
  CHECK_THROWS_WITH_AS(multimax(x, MultiMaxParams{t4, t4, 3}),
                       doctest::Contains("order must be 1 or 2"), Error);
  CHECK_THROWS_WITH_AS(softmax_temperature(x, 0.0f), doctest::Contains("temperature"), Error);
  CHECK_THROWS_WITH_AS(evsoftmax(x, Tensor(), false, true, -1.0f),
                       doctest::Contains("evsoftmax: eps"), Error);
}

TEST_CASE("normalizers: strided views of x and of the mask give what their copies give") {
  Generator gen(11);
  const Tensor base = Tensor::randn({5, 4}, gen);
  const Tensor x = base.detach().transpose(0, 1);  // [4, 5], not contiguous
  const Tensor mask_base = random_mask({5, 4}, gen);
  const Tensor mask = mask_base.transpose(0, 1);
  for (const char* name :
       {"softmax_temperature", "multimax2", "sparsemax", "entmax15", "evsoftmax"}) {
    Normalizer n = normalizer(name);
    const std::string op_name = name;
    CAPTURE(op_name);
    const Tensor from_views = n.forward(x, mask, true, true);
    const Tensor from_copies = n.forward(x.contiguous(), mask.contiguous(), true, true);
    CHECK(from_views.to_vector() == from_copies.to_vector());
  }
}

TEST_CASE("normalizers: shapes large enough for the OpenMP team match the naive kernels") {
  // rows * cols >= 16384 takes the threaded path (ctest runs with OMP_NUM_THREADS=2), where
  // MultiMax's parameter gradients are summed in per-thread blocks.
  const std::vector<std::pair<const char*, Shapes>> rows = {
      {"multimax2_heads", {{2, 3, 48, 64}, {48, 64}, true}},
      {"multimax1", {{96, 200}, {200}, false}},
      // dx of 8 MiB and more is written with streaming stores (vec16.hpp kStreamingBytes):
      // 64-byte aligned rows, then rows of 257 columns (unaligned, with a partial chunk).
      {"multimax2", {{8192, 256}, {}, false}},
      {"multimax1", {{8192, 257}, {257}, false}},
      {"softmax_temperature", {{96, 200}, {}, false}},
      {"sparsemax", {{96, 200}, {96, 1}, false}},
      {"entmax15", {{2, 48, 200}, {}, true}},
      {"evsoftmax_training", {{96, 200}, {200}, false}},
  };
  for (const auto& [name, s] : rows) {
    Normalizer n = normalizer(name);
    const std::string label = n.name + " x" + to_string(s.x);
    CAPTURE(label);
    Generator gen(5);
    const Tensor x = Tensor::randn(s.x, gen, 0.0f, 2.0f);
    const Tensor mask = s.mask.empty() ? Tensor() : random_mask(s.mask, gen);
    const Tensor p = n.forward(x, mask, s.causal, true);
    check_close(p, n.forward(x, mask, s.causal, false), 2e-6f, label + " forward");
    const Tensor g = Tensor::randn(s.x, gen);
    const std::vector<Tensor> fast = n.backward(x, p, g, mask, s.causal, true);
    const std::vector<Tensor> naive = n.backward(x, p, g, mask, s.causal, false);
    for (size_t k = 0; k < fast.size(); ++k)
      check_close(fast[k], naive[k], 1e-4f, label + " backward " + std::to_string(k));
  }
}
