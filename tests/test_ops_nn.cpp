// matmul, linear, softmax, log_softmax, layer_norm, embedding, cross_entropy, dropout. One table
// row per (op, input shapes, view, tolerance) drives (1) the forward against the naive reference
// kernel and (2) gradcheck. Then errors, the own kernels against their naive twins, dropout's
// statistics and the primitive cache.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/gradcheck.hpp"
#include "engine/kernels/cross_entropy.hpp"
#include "engine/kernels/dense_naive.hpp"
#include "engine/kernels/embedding.hpp"
#include "engine/kernels/layer_norm.hpp"
#include "engine/kernels/matmul.hpp"
#include "engine/kernels/primitive_cache_stats.hpp"
#include "engine/kernels/softmax.hpp"
#include "engine/ops.hpp"

using namespace mmx;

namespace {

using Inputs = std::vector<Tensor>;
using Fn = std::function<Tensor(const Inputs&)>;

struct Row {
  std::string name;
  std::vector<Shape> shapes;  // the leaf shapes; `op` and `reference` build any views themselves
  Fn op;                      // the autograd op
  Fn reference;               // the naive kernel, on the same views
  float tol = 1e-5f;          // forward: |op - reference| <= tol * (1 + |reference|)
};

Tensor t_last(const Tensor& x) {
  return transpose(x, -1, -2);
}

Fn naive_matmul(std::function<Tensor(const Tensor&)> va = {},
                std::function<Tensor(const Tensor&)> vb = {}) {
  return [=](const Inputs& x) {
    return kernels::matmul_forward_naive(va ? va(x[0]) : x[0], vb ? vb(x[1]) : x[1]);
  };
}
// linear(x, w, b) is x . w^T + b: the naive matmul on w's transposed view.
Tensor naive_linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  Shape out_shape = x.shape();
  out_shape.back() = w.size(0);
  const Tensor x2 = reshape(x.contiguous(), {-1, x.size(-1)});
  return reshape(kernels::matmul_forward_naive(x2, t_last(w), b), out_shape);
}
Tensor naive_cross_entropy(const Tensor& logits, const std::vector<int64_t>& targets) {
  const Tensor rows = reshape(logits.contiguous(), {-1, logits.size(-1)});
  return Tensor::scalar(kernels::cross_entropy_forward_naive(rows, targets, -100).loss);
}

const std::vector<int64_t> kTargets4 = {1, -100, 4, 0};
const std::vector<int64_t> kTargets6 = {2, 0, -100, 4, 4, 1};
const std::vector<int64_t> kIds = {3, 0, 6, 3, 3, 1};

const std::vector<Row>& rows() {
  static const std::vector<Row> table = {
      // --- matmul
      {"matmul [3,4]x[4,5]",
       {{3, 4}, {4, 5}},
       [](const Inputs& x) { return matmul(x[0], x[1]); },
       naive_matmul()},
      {"matmul batched [2,3,4]x[2,4,5]",
       {{2, 3, 4}, {2, 4, 5}},
       [](const Inputs& x) { return matmul(x[0], x[1]); },
       naive_matmul()},
      {"matmul broadcast [2,1,3,4]x[3,4,5]",
       {{2, 1, 3, 4}, {3, 4, 5}},
       [](const Inputs& x) { return matmul(x[0], x[1]); },
       naive_matmul()},
      {"matmul batch x matrix [2,3,4]x[4,5]",
       {{2, 3, 4}, {4, 5}},
       [](const Inputs& x) { return matmul(x[0], x[1]); },
       naive_matmul()},
      {"matmul matrix x batch [3,4]x[2,4,5]",
       {{3, 4}, {2, 4, 5}},
       [](const Inputs& x) { return matmul(x[0], x[1]); },
       naive_matmul()},
      {"matmul A^T view",
       {{4, 3}, {4, 5}},
       [](const Inputs& x) { return matmul(t_last(x[0]), x[1]); },
       naive_matmul(t_last)},
      {"matmul B^T view",
       {{3, 4}, {5, 4}},
       [](const Inputs& x) { return matmul(x[0], t_last(x[1])); },
       naive_matmul({}, t_last)},
      {"matmul batched A^T.B^T",
       {{2, 4, 3}, {2, 5, 4}},
       [](const Inputs& x) { return matmul(t_last(x[0]), t_last(x[1])); },
       naive_matmul(t_last, t_last)},
      {"matmul sliced A (row stride 6)",
       {{3, 6}, {4, 5}},
       [](const Inputs& x) { return matmul(slice(x[0], 1, 1, 5), x[1]); },
       naive_matmul([](const Tensor& a) { return slice(a, 1, 1, 5); })},
      {"matmul expanded batch A",
       {{1, 3, 4}, {2, 4, 5}},
       [](const Inputs& x) {
         return matmul(expand(x[0], {2, 3, 4}), x[1]);
       },
       naive_matmul([](const Tensor& a) {
         return expand(a, {2, 3, 4});
       })},
      {"matmul both expanded on one batch axis",
       {{1, 3, 4}, {1, 4, 5}},
       [](const Inputs& x) {
         return matmul(expand(x[0], {2, 3, 4}), expand(x[1], {2, 4, 5}));
       },
       naive_matmul(
           [](const Tensor& a) {
             return expand(a, {2, 3, 4});
           },
           [](const Tensor& b) {
             return expand(b, {2, 4, 5});
           })},
      {"matmul expanded B against a size-1 batch of A",
       {{1, 3, 4}, {1, 4, 5}},
       [](const Inputs& x) {
         return matmul(x[0], expand(x[1], {2, 4, 5}));
       },
       naive_matmul({},
                    [](const Tensor& b) {
                      return expand(b, {2, 4, 5});
                    })},
      {"matmul 4-d attention-like [2,2,3,4]x[2,2,4,3]^T",
       {{2, 2, 3, 4}, {2, 2, 3, 4}},
       [](const Inputs& x) { return matmul(x[0], t_last(x[1])); },
       naive_matmul({}, t_last)},
      {"matmul permuted batch A [3,2,4]->[2,3,4]",
       {{3, 2, 4}, {4, 5}},
       [](const Inputs& x) {
         return matmul(permute(x[0], {1, 0, 2}), x[1]);
       },
       naive_matmul([](const Tensor& a) {
         return permute(a, {1, 0, 2});
       })},
      {"matmul k=1 outer product",
       {{3, 1}, {1, 4}},
       [](const Inputs& x) { return matmul(x[0], x[1]); },
       naive_matmul()},
      // --- linear
      {"linear [3,4] w[5,4] b[5]",
       {{3, 4}, {5, 4}, {5}},
       [](const Inputs& x) { return linear(x[0], x[1], x[2]); },
       [](const Inputs& x) { return naive_linear(x[0], x[1], x[2]); }},
      {"linear [2,3,4] no bias",
       {{2, 3, 4}, {5, 4}},
       [](const Inputs& x) { return linear(x[0], x[1], Tensor()); },
       [](const Inputs& x) { return naive_linear(x[0], x[1], Tensor()); }},
      {"linear 1-d x [4]",
       {{4}, {2, 4}, {2}},
       [](const Inputs& x) { return linear(x[0], x[1], x[2]); },
       [](const Inputs& x) { return naive_linear(x[0], x[1], x[2]); }},
      {"linear transposed x",
       {{4, 3}, {5, 4}, {5}},
       [](const Inputs& x) { return linear(t_last(x[0]), x[1], x[2]); },
       [](const Inputs& x) { return naive_linear(t_last(x[0]), x[1], x[2]); }},
      {"linear permuted x (needs a copy)",
       {{3, 2, 4}, {5, 4}, {5}},
       [](const Inputs& x) {
         return linear(permute(x[0], {1, 0, 2}), x[1], x[2]);
       },
       [](const Inputs& x) {
         return naive_linear(permute(x[0], {1, 0, 2}), x[1], x[2]);
       }},
      // --- softmax / log_softmax
      {"softmax [3,5]",
       {{3, 5}},
       [](const Inputs& x) { return softmax(x[0]); },
       [](const Inputs& x) { return kernels::softmax_forward_naive(x[0]); }},
      {"softmax [2,3,7]",
       {{2, 3, 7}},
       [](const Inputs& x) { return softmax(x[0]); },
       [](const Inputs& x) { return kernels::softmax_forward_naive(x[0]); }},
      {"softmax transposed",
       {{6, 4}},
       [](const Inputs& x) { return softmax(t_last(x[0])); },
       [](const Inputs& x) { return kernels::softmax_forward_naive(t_last(x[0])); }},
      {"log_softmax [3,5]",
       {{3, 5}},
       [](const Inputs& x) { return log_softmax(x[0]); },
       [](const Inputs& x) { return kernels::log_softmax_forward_naive(x[0]); }},
      {"log_softmax [2,3,7]",
       {{2, 3, 7}},
       [](const Inputs& x) { return log_softmax(x[0]); },
       [](const Inputs& x) { return kernels::log_softmax_forward_naive(x[0]); }},
      {"log_softmax transposed",
       {{6, 4}},
       [](const Inputs& x) { return log_softmax(t_last(x[0])); },
       [](const Inputs& x) { return kernels::log_softmax_forward_naive(t_last(x[0])); }},
      // --- layer_norm
      {"layer_norm [4,6] w b",
       {{4, 6}, {6}, {6}},
       [](const Inputs& x) { return layer_norm(x[0], x[1], x[2]); },
       [](const Inputs& x) { return kernels::layer_norm_forward_naive(x[0], x[1], x[2], 1e-5f); },
       1e-4f},
      {"layer_norm [2,3,8] w b",
       {{2, 3, 8}, {8}, {8}},
       [](const Inputs& x) { return layer_norm(x[0], x[1], x[2]); },
       [](const Inputs& x) { return kernels::layer_norm_forward_naive(x[0], x[1], x[2], 1e-5f); },
       1e-4f},
      {"layer_norm no weight, no bias",
       {{3, 5}},
       [](const Inputs& x) { return layer_norm(x[0], Tensor(), Tensor()); },
       [](const Inputs& x) {
         return kernels::layer_norm_forward_naive(x[0], Tensor(), Tensor(), 1e-5f);
       },
       1e-4f},
      {"layer_norm transposed x, weight only",
       {{5, 3}, {5}},
       [](const Inputs& x) { return layer_norm(t_last(x[0]), x[1], Tensor()); },
       [](const Inputs& x) {
         return kernels::layer_norm_forward_naive(t_last(x[0]), x[1], Tensor(), 1e-5f);
       },
       1e-4f},
      // --- embedding (ids repeat, so the backward must add)
      {"embedding [7,3] ids [2,3]",
       {{7, 3}},
       [](const Inputs& x) {
         return embedding(x[0], kIds, {2, 3});
       },
       [](const Inputs& x) {
         return reshape(kernels::embedding_forward_naive(x[0], kIds), {2, 3, 3});
       }},
      {"embedding transposed table",
       {{3, 7}},
       [](const Inputs& x) { return embedding(t_last(x[0]), kIds, {6}); },
       [](const Inputs& x) { return kernels::embedding_forward_naive(t_last(x[0]), kIds); }},
      // --- cross_entropy (one ignored row each)
      {"cross_entropy [4,5]",
       {{4, 5}},
       [](const Inputs& x) { return cross_entropy(x[0], kTargets4); },
       [](const Inputs& x) { return naive_cross_entropy(x[0], kTargets4); }},
      {"cross_entropy [2,3,5]",
       {{2, 3, 5}},
       [](const Inputs& x) { return cross_entropy(x[0], kTargets6); },
       [](const Inputs& x) { return naive_cross_entropy(x[0], kTargets6); }},
      {"cross_entropy transposed logits",
       {{5, 4}},
       [](const Inputs& x) { return cross_entropy(t_last(x[0]), kTargets4); },
       [](const Inputs& x) { return naive_cross_entropy(t_last(x[0]), kTargets4); }},
  };
  return table;
}

Inputs make_inputs(const Row& row, uint64_t seed) {
  Generator gen(seed);
  Inputs inputs;
  for (const Shape& s : row.shapes) inputs.push_back(Tensor::randn(s, gen).requires_grad_());
  return inputs;
}

void check_close(const Tensor& got, const Tensor& want, float tol, const std::string& what) {
  REQUIRE_MESSAGE(got.shape() == want.shape(), what, ": shape ", to_string(got.shape()), " vs ",
                  to_string(want.shape()));
  const std::vector<float> g = got.to_vector(), w = want.to_vector();
  size_t worst = 0;  // the element furthest outside its tolerance, reported alone
  float worst_excess = -INFINITY;
  for (size_t i = 0; i < g.size(); ++i) {
    const float excess = std::fabs(g[i] - w[i]) - tol * (1.0f + std::fabs(w[i]));
    if (!(excess <= worst_excess)) {  // also catches NaN
      worst_excess = excess;
      worst = i;
    }
  }
  if (g.empty()) return;
  CHECK_MESSAGE(worst_excess <= 0.0f, what, ": element ", worst, " is ", g[worst], ", want ",
                w[worst]);
}

}  // namespace

TEST_CASE("nn ops: forward matches the naive reference, gradients match finite differences") {
  uint64_t seed = 1;
  for (const Row& row : rows()) {
    CAPTURE(row.name);
    const Inputs inputs = make_inputs(row, seed++);
    Tensor got, want;
    {
      NoGrad no_grad;
      got = row.op(inputs);
      want = row.reference(inputs);
    }
    check_close(got, want, row.tol, row.name);
    const GradcheckResult g = gradcheck(row.op, inputs);
    CHECK_MESSAGE(g.ok, row.name, ": ", g.message);
  }
}

TEST_CASE("matmul and linear: bad shapes raise mmx::Error naming the op and the shapes") {
  const Tensor a = Tensor::zeros({4, 3}), b = Tensor::zeros({5, 2});
  CHECK_THROWS_WITH_AS(matmul(a, b), "matmul: inner dims differ: [4, 3] x [5, 2]", Error);
  CHECK_THROWS_AS(matmul(Tensor::zeros({3}), Tensor::zeros({3, 2})), Error);
  CHECK_THROWS_WITH_AS(matmul(Tensor::zeros({2, 3, 4}), Tensor::zeros({3, 4, 5})),
                       doctest::Contains("matmul"), Error);
  CHECK_THROWS_WITH_AS(linear(Tensor::zeros({2, 4}), Tensor::zeros({5, 3}), Tensor()),
                       doctest::Contains("[2, 4]"), Error);
  CHECK_THROWS_WITH_AS(linear(Tensor::zeros({2, 4}), Tensor::zeros({5, 4}), Tensor::zeros({4})),
                       doctest::Contains("bias"), Error);
}

TEST_CASE("softmax and layer_norm: bad shapes raise mmx::Error naming the op and the shapes") {
  CHECK_THROWS_WITH_AS(softmax(Tensor::scalar(1.0f)), doctest::Contains("softmax"), Error);
  CHECK_THROWS_WITH_AS(log_softmax(Tensor::scalar(1.0f)), doctest::Contains("log_softmax"), Error);
  CHECK_THROWS_WITH_AS(layer_norm(Tensor::zeros({2, 4}), Tensor::ones({3}), Tensor()),
                       "layer_norm: weight of shape [3] for input [2, 4]", Error);
  CHECK_THROWS_WITH_AS(layer_norm(Tensor::zeros({2, 4}), Tensor(), Tensor::zeros({4, 1})),
                       doctest::Contains("bias of shape [4, 1]"), Error);
  // The backward kernel called directly: its own checks, before it reads anything.
  const Tensor x = Tensor::zeros({2, 4}), stats = Tensor::ones({2});
  CHECK_THROWS_WITH_AS(
      kernels::layer_norm_backward(x, Tensor::ones({3}), Tensor(), stats, stats, x, 1e-5f),
      "layer_norm backward: weight of shape [3] for input [2, 4]", Error);
  CHECK_THROWS_WITH_AS(
      kernels::layer_norm_backward(x, Tensor(), Tensor(), Tensor::ones({3}), stats, x, 1e-5f),
      doctest::Contains("need a mean and a variance per row (2), got 3 and 2"), Error);
}

TEST_CASE("matmul: empty inner dimension gives zeros (plus the bias)") {
  const Tensor y =
      linear(Tensor::zeros({3, 0}), Tensor::zeros({2, 0}), Tensor::from_data({1.5f, -2.0f}, {2}));
  CHECK(y.to_vector() == std::vector<float>{1.5f, -2.0f, 1.5f, -2.0f, 1.5f, -2.0f});
}

TEST_CASE("matmul: a large transposed product matches the reference") {
  Generator gen(7);
  const Tensor a = Tensor::randn({40, 70}, gen), b = Tensor::randn({90, 40}, gen);
  const Tensor at = transpose(a, 0, 1), bt = transpose(b, 0, 1);
  check_close(kernels::matmul_forward(at, bt), kernels::matmul_forward_naive(at, bt), 1e-4f,
              "[70,40]x[40,90] through strides");
}

TEST_CASE("matmul: transposed and sliced views reach oneDNN through their strides, uncopied") {
  Generator gen(17);
  Tensor a = Tensor::randn({2, 5, 3}, gen).requires_grad_();
  Tensor b = Tensor::randn({2, 4, 5}, gen).requires_grad_();
  Tensor w = Tensor::randn({6, 4}, gen).requires_grad_();
  Tensor wide = Tensor::randn({3, 9}, gen);
  const int64_t before = kernels::matmul_operand_copies();
  // Forward and backward of A^T.B^T, a linear layer and a column slice: all strided, no copy.
  Tensor y = matmul(transpose(a, -1, -2), transpose(b, -1, -2));
  sum(linear(y, w, Tensor())).backward();
  (void)matmul(slice(wide, 1, 2, 8), Tensor::ones({6, 2}));
  CHECK(kernels::matmul_operand_copies() == before);
  // Permuted batch strides and expanded batch axes need no copy either.
  (void)matmul(permute(Tensor::ones({3, 2, 4}), {1, 0, 2}), Tensor::ones({2, 4, 5}));
  (void)matmul(Tensor::ones({1, 3, 4}).expand({2, 3, 4}), Tensor::ones({2, 4, 5}));
  CHECK(kernels::matmul_operand_copies() == before);
  (void)matmul(Tensor::ones({3, 4}).expand({3, 4}), Tensor::ones({4, 1}).expand({4, 5}));
  CHECK(kernels::matmul_operand_copies() == before + 1);  // stride-0 matrix axis: copied
}

TEST_CASE("embedding: an out-of-range id names the id and the vocab size") {
  const Tensor w = Tensor::zeros({5, 2});
  CHECK_THROWS_WITH_AS(embedding(w, {1, 5}, {2}), doctest::Contains("id 5"), Error);
  CHECK_THROWS_WITH_AS(embedding(w, {-1}, {1}), doctest::Contains("vocab size 5"), Error);
  CHECK_THROWS_AS(embedding(w, {1, 2, 3}, {2}), Error);
}

TEST_CASE("cross_entropy: bad targets raise; all ignored gives loss 0 and gradient 0") {
  Generator gen(3);
  Tensor logits = Tensor::randn({3, 4}, gen).requires_grad_();
  CHECK_THROWS_WITH_AS(cross_entropy(logits, {0, 4, 1}), doctest::Contains("target 4"), Error);
  CHECK_THROWS_AS(cross_entropy(logits, {0, 1}), Error);
  Tensor loss = cross_entropy(logits, {-100, -100, -100});
  CHECK(loss.item() == 0.0f);
  loss.backward();
  for (float g : logits.grad().to_vector()) CHECK(g == 0.0f);
}

TEST_CASE("own kernels: the parallel embedding and cross-entropy match their naive twins") {
  Generator gen(11);
  const int64_t rows = 300, d = 130, vocab = 50;
  std::vector<int64_t> ids(rows), targets(rows);
  for (int64_t i = 0; i < rows; ++i) {
    ids[i] = static_cast<int64_t>(gen.below(vocab));
    targets[i] = i % 7 == 0 ? -1 : static_cast<int64_t>(gen.below(d));
  }
  const Tensor table = Tensor::randn({vocab, d}, gen);
  const Tensor gy = Tensor::randn({rows, d}, gen);
  check_close(kernels::embedding_forward(table, ids), kernels::embedding_forward_naive(table, ids),
              0.0f, "embedding forward");
  check_close(kernels::embedding_backward(gy, ids, vocab),
              kernels::embedding_backward_naive(gy, ids, vocab), 1e-5f, "embedding backward");

  const Tensor logits = Tensor::randn({rows, d}, gen, 0.0f, 3.0f);
  const auto fast = kernels::cross_entropy_forward(logits, targets, -1);
  const auto naive = kernels::cross_entropy_forward_naive(logits, targets, -1);
  CHECK(fast.counted == naive.counted);
  CHECK(fast.loss == doctest::Approx(naive.loss).epsilon(1e-5));
  check_close(fast.logsumexp, naive.logsumexp, 1e-5f, "logsumexp");
  const float scale = 0.37f;
  check_close(kernels::cross_entropy_backward(logits, fast.logsumexp, targets, -1, scale),
              kernels::cross_entropy_backward_naive(logits, targets, -1, scale), 1e-5f,
              "cross_entropy backward");
}

TEST_CASE("softmax, log_softmax and layer_norm: wide rows match the reference") {
  Generator gen(5);
  const Tensor x = Tensor::randn({33, 517}, gen, 0.0f, 4.0f);
  const Tensor w = Tensor::randn({517}, gen), b = Tensor::randn({517}, gen);
  check_close(kernels::softmax_forward(x), kernels::softmax_forward_naive(x), 1e-5f, "softmax");
  check_close(kernels::log_softmax_forward(x), kernels::log_softmax_forward_naive(x), 1e-5f,
              "log_softmax");
  check_close(kernels::layer_norm_forward(x, w, b, 1e-5f).y,
              kernels::layer_norm_forward_naive(x, w, b, 1e-5f), 1e-4f, "layer_norm");
}

TEST_CASE("own kernels: the layer norm backward matches its naive twin") {
  // 700 rows past the threading threshold and its row chunks (the last one partial); 99
  // columns, three past the last whole Vec. With and without weight and bias.
  Generator gen(12);
  const Tensor x = Tensor::randn({7, 100, 99}, gen, 0.5f, 2.0f), gy = Tensor::randn(x.shape(), gen);
  const Tensor w = Tensor::randn({99}, gen), b = Tensor::randn({99}, gen);
  for (const bool affine : {true, false}) {
    CAPTURE(affine);
    const Tensor weight = affine ? w : Tensor(), bias = affine ? b : Tensor();
    const kernels::LayerNormForward f = kernels::layer_norm_forward(x, weight, bias, 1e-5f);
    const kernels::LayerNormBackward fast =
        kernels::layer_norm_backward(x, weight, bias, f.mean, f.variance, gy, 1e-5f);
    const kernels::LayerNormBackward naive =
        kernels::layer_norm_backward_naive(x, weight, bias, gy, 1e-5f);
    check_close(fast.dx, naive.dx, 1e-4f, "layer_norm dx");
    CHECK(fast.dweight.defined() == affine);
    CHECK(fast.dbias.defined() == affine);
    if (!affine) continue;
    check_close(fast.dweight, naive.dweight, 1e-4f, "layer_norm dweight");
    check_close(fast.dbias, naive.dbias, 1e-4f, "layer_norm dbias");
  }
}

TEST_CASE("dropout: checks p, is the identity in eval, drops about p and scales the rest") {
  Generator gen(9);
  const Tensor x = Tensor::ones({4000});
  CHECK_THROWS_WITH_AS(dropout(x, 1.0f, true, gen), doctest::Contains("dropout"), Error);
  CHECK_THROWS_AS(dropout(x, -0.1f, true, gen), Error);
  CHECK(dropout(x, 0.5f, false, gen).shares_storage(x));

  Tensor leaf = Tensor::ones({4000}).requires_grad_();
  Generator g1(42), g2(42);
  Tensor y = dropout(leaf, 0.25f, true, g1);
  const std::vector<float> v = y.to_vector();
  int zeros = 0;
  for (float e : v) {
    CHECK((e == 0.0f || e == doctest::Approx(1.0f / 0.75f)));
    zeros += e == 0.0f;
  }
  CHECK(zeros > 900);  // 1000 expected; 4 standard deviations is about 110
  CHECK(zeros < 1100);
  CHECK(dropout(x, 0.25f, true, g2).to_vector() == v);  // same seed, same mask
  sum(y).backward();
  CHECK(leaf.grad().to_vector() == v);  // d(sum(x*mask))/dx = mask, and x is ones
}

TEST_CASE("primitive cache: a second call with the same shapes creates no primitive") {
  Generator gen(13);
  Tensor x = Tensor::randn({3, 6, 10}, gen).requires_grad_();
  Tensor w = Tensor::randn({8, 10}, gen).requires_grad_();
  Tensor bias = Tensor::randn({8}, gen).requires_grad_();
  Tensor gamma = Tensor::ones({8}).requires_grad_(), beta = Tensor::zeros({8}).requires_grad_();
  auto step = [&] {
    Tensor h = layer_norm(linear(x, w, bias), gamma, beta);
    Tensor p = softmax(matmul(h, transpose(h, -1, -2)));
    sum(log_softmax(p)).backward();
  };
  step();
  const kernels::PrimitiveCacheStats first = kernels::primitive_cache_stats();
  step();
  const kernels::PrimitiveCacheStats second = kernels::primitive_cache_stats();
  CHECK(second.created == first.created);
  CHECK(second.reused > first.reused);
}
