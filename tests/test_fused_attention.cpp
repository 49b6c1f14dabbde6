// Fused causal attention (kernels/causal_attention.hpp). One table row per (shape, view,
// normaliser): the fused forward and backward against the naive chain, the op against the
// unfused ops it replaces (the same bits), gradcheck of the op, and its errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/gradcheck.hpp"
#include "engine/kernels/causal_attention.hpp"
#include "engine/normalizers.hpp"
#include "engine/ops.hpp"
#include "tensor_compare.hpp"

using namespace mmx;

namespace {

enum class Normalizer { Softmax, MultiMaxPerLayer, MultiMaxPerHead };

struct Row {
  std::string name;
  int64_t batch, heads, T, d;  // q, k, v [batch, heads, T, d]
  bool strided;                // q, k, v as strided views of one [batch, T, 3 heads, d] tensor
  Normalizer normalizer;
  float tolerance;             // absolute, against the naive chain
};

const Row kRows[] = {
    {"one query", 1, 1, 1, 4, false, Normalizer::Softmax, 1e-5f},
    {"T below a tile, softmax", 1, 2, 5, 3, false, Normalizer::Softmax, 1e-5f},
    {"T across tiles, strided, softmax", 2, 3, 37, 8, true, Normalizer::Softmax, 1e-5f},
    {"T across tiles, strided, MultiMax per layer (order 1)", 2, 3, 37, 8, true,
     Normalizer::MultiMaxPerLayer, 1e-5f},
    {"T = 70, d = 40, MultiMax per head", 2, 2, 70, 40, false, Normalizer::MultiMaxPerHead, 1e-4f},
    {"T = 131, strided, MultiMax per head", 1, 3, 131, 16, true, Normalizer::MultiMaxPerHead,
     1e-4f},
};

struct Operands {
  Tensor q, k, v;
};

Operands operands(const Row& row, Generator& gen) {
  if (!row.strided) {
    const Shape shape{row.batch, row.heads, row.T, row.d};
    Tensor q = Tensor::uniform(shape, gen, -1.0f, 1.0f);
    Tensor k = Tensor::uniform(shape, gen, -1.0f, 1.0f);
    return {q, k, Tensor::uniform(shape, gen, -1.0f, 1.0f)};
  }
  // As attention makes them: one projection, its heads strided views.
  const Tensor all = Tensor::uniform({row.batch, row.T, 3 * row.heads, row.d}, gen, -1.0f, 1.0f)
                         .permute({0, 2, 1, 3});
  return {all.slice(1, 0, row.heads), all.slice(1, row.heads, 2 * row.heads),
          all.slice(1, 2 * row.heads, 3 * row.heads)};
}

kernels::AttentionNormalizer normalizer_of(const Row& row) {
  if (row.normalizer == Normalizer::Softmax) return {};
  const bool per_head = row.normalizer == Normalizer::MultiMaxPerHead;
  const int64_t sets = per_head ? row.heads : 1;
  std::vector<float> t, r;
  for (int64_t h = 0; h < sets; ++h) {
    const float shift = 0.1f * static_cast<float>(h);
    for (float v : {0.4f, 0.3f, 0.2f, 0.1f}) t.push_back(v + shift);
    for (float v : {-0.5f, 0.5f, -1.0f, 1.0f}) r.push_back(v + shift);
  }
  const Shape shape = per_head ? Shape{sets, 4} : Shape{4};
  return {Tensor::from_data(t, shape), Tensor::from_data(r, shape), per_head ? 2 : 1};
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.to_vector() == b.to_vector();
}

}  // namespace

TEST_CASE("fused causal attention matches the naive chain, forward and backward") {
  for (const Row& row : kRows) {
    CAPTURE(row.name);
    Generator gen(5);
    const Operands x = operands(row, gen);
    const kernels::AttentionNormalizer n = normalizer_of(row);
    for (float scale : {1.0f, 0.35f}) {
      CAPTURE(scale);
      const kernels::CausalAttention fast =
          kernels::causal_attention_forward(x.q, x.k, x.v, scale, n);
      const kernels::CausalAttention naive =
          kernels::causal_attention_forward_naive(x.q, x.k, x.v, scale, n);
      CHECK(max_abs_diff(fast.y, naive.y) <= row.tolerance);
      CHECK(max_abs_diff(fast.p, naive.p) <= row.tolerance);

      const Tensor gy = Tensor::uniform(x.q.shape(), gen, -1.0f, 1.0f);
      const kernels::CausalAttentionGradients g =
          kernels::causal_attention_backward(x.q, x.k, x.v, fast, gy, scale, n);
      const kernels::CausalAttentionGradients ref =
          kernels::causal_attention_backward_naive(x.q, x.k, x.v, naive, gy, scale, n);
      CHECK(max_abs_diff(g.dq, ref.dq) <= row.tolerance);
      CHECK(max_abs_diff(g.dk, ref.dk) <= row.tolerance);
      CHECK(max_abs_diff(g.dv, ref.dv) <= row.tolerance);
      if (n.is_multimax()) {  // sums over every score: tolerance grows with their count
        const float sum_tolerance = row.tolerance * static_cast<float>(row.T);
        CHECK(max_abs_diff(g.dt, ref.dt) <= sum_tolerance);
        CHECK(max_abs_diff(g.dr, ref.dr) <= sum_tolerance);
      }
    }
  }
}

TEST_CASE("the causal_attention op gives the unfused ops' values and gradients, bit for bit") {
  for (const Row& row : kRows) {
    CAPTURE(row.name);
    Generator gen(9);
    const Operands x = operands(row, gen);
    const kernels::AttentionNormalizer n = normalizer_of(row);
    const MultiMaxParams params{n.t, n.r, n.order};
    const float scale = 0.35f;
    const Tensor gy = Tensor::uniform(x.q.shape(), gen, -1.0f, 1.0f);
    // Both runs from fresh leaves: gradients of q, k, v, t, r.
    auto run = [&](bool fused) {
      std::vector<Tensor> leaves{x.q.detach().requires_grad_(), x.k.detach().requires_grad_(),
                                 x.v.detach().requires_grad_()};
      MultiMaxParams p = params;
      if (n.is_multimax()) {
        p.t = n.t.detach().requires_grad_();
        p.r = n.r.detach().requires_grad_();
        leaves.push_back(p.t);
        leaves.push_back(p.r);
      }
      const MultiMaxParams* multimax = n.is_multimax() ? &p : nullptr;
      Tensor y;
      if (fused) {
        y = causal_attention(leaves[0], leaves[1], leaves[2], scale, multimax);
      } else {
        const Tensor s = causal_scores(leaves[0], leaves[1], scale);
        const Tensor w = multimax ? mmx::multimax(s, *multimax, Tensor(), /*causal=*/true)
                                  : softmax_temperature(s, 1.0f, Tensor(), /*causal=*/true);
        y = causal_weighted_sum(w, leaves[2]);
      }
      y.backward(gy);
      std::vector<Tensor> out{y.detach()};
      for (const Tensor& leaf : leaves) out.push_back(leaf.grad());
      return out;
    };
    const std::vector<Tensor> fused = run(true), unfused = run(false);
    const char* names[] = {"y", "dq", "dk", "dv", "dt", "dr"};
    for (size_t i = 0; i < fused.size(); ++i) {
      CAPTURE(names[i]);
      // dt and dr are sums over every score, split among the threads by rows in the one and by
      // matrices in the other: equal to rounding when the splits differ.
      if (i >= 4)
        CHECK(max_abs_diff(fused[i], unfused[i]) <= 1e-5f * static_cast<float>(row.T));
      else
        CHECK(same_bits(fused[i], unfused[i]));
    }
  }
}

TEST_CASE("causal_attention: gradcheck with SoftMax and with MultiMax's t and r") {
  Generator gen(3);
  const Shape shape{1, 2, 9, 4};
  const Tensor q = Tensor::uniform(shape, gen, -1.0f, 1.0f).requires_grad_();
  const Tensor k = Tensor::uniform(shape, gen, -1.0f, 1.0f).requires_grad_();
  const Tensor v = Tensor::uniform(shape, gen, -1.0f, 1.0f).requires_grad_();
  GradcheckOptions opt;
  opt.atol = 2e-3f;
  const GradcheckResult softmax = gradcheck(
      [](const std::vector<Tensor>& in) { return causal_attention(in[0], in[1], in[2], 0.5f); },
      {q, k, v}, opt);
  CHECK_MESSAGE(softmax.ok, softmax.message);
  for (int order : {1, 2}) {
    CAPTURE(order);
    const Tensor t = Tensor::from_data({0.4f, 0.3f, 0.2f, 0.1f, 0.5f, 0.2f, 0.3f, 0.2f}, {2, 4})
                         .requires_grad_();
    const Tensor r = Tensor::from_data({-0.3f, 0.3f, -0.6f, 0.6f, -0.2f, 0.4f, -0.7f, 0.5f},
                                       {2, 4})
                         .requires_grad_();
    const GradcheckResult multimax = gradcheck(
        [order](const std::vector<Tensor>& in) {
          const MultiMaxParams params{in[3], in[4], order};
          return causal_attention(in[0], in[1], in[2], 0.5f, &params);
        },
        {q, k, v, t, r}, opt);
    CHECK_MESSAGE(multimax.ok, multimax.message);
  }
  autograd::clear_tape();
}

TEST_CASE("causal_attention names itself and the shapes on bad input") {
  const Tensor a = Tensor::zeros({2, 3, 4, 5});
  CHECK_THROWS_WITH_AS(causal_attention(a, a, Tensor::zeros({2, 3, 4, 6}), 1.0f),
                       doctest::Contains("causal_attention: need q, k, v [..., T, d] of one "
                                         "shape, got [2, 3, 4, 5], [2, 3, 4, 5] and [2, 3, 4, 6]"),
                       Error);
  const MultiMaxParams two_heads{Tensor::zeros({2, 4}), Tensor::zeros({2, 4}), 2};
  CHECK_THROWS_WITH_AS(causal_attention(a, a, a, 1.0f, &two_heads),
                       doctest::Contains("per-head parameters of shape [2, 4]"), Error);
}
