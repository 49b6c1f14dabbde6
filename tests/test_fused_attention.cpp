// Fused causal attention (kernels/causal_attention.hpp). One table row per (shape, view,
// normalizer): the fused forward and backward against the naive chain, the op against the
// unfused ops it replaces (the same bits), gradcheck of the op, and its errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/gradcheck.hpp"
#include "engine/kernels/causal_attention.hpp"
#include "engine/normalizers.hpp"
#include "engine/ops.hpp"
#include "engine/precision.hpp"
#include "tensor_compare.hpp"

using namespace mmx;

namespace {

enum class Normalizer { Softmax, MultiMaxPerLayer, MultiMaxPerHead };

struct Row {
  std::string name;
  int64_t batch, heads, T, d;  // q, k, v [batch, heads, T, d]
  bool strided;                // q, k, v as strided views of one [batch, T, 3 heads, d] tensor
  Normalizer normalizer;
  float tolerance;  // absolute, against the naive chain
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

// The row's MultiMax parameters; none (SoftMax) for a SoftMax row.
std::optional<MultiMaxParams> multimax_of(const Row& row) {
  if (row.normalizer == Normalizer::Softmax) return std::nullopt;
  const bool per_head = row.normalizer == Normalizer::MultiMaxPerHead;
  const int64_t sets = per_head ? row.heads : 1;
  std::vector<float> t, r;
  for (int64_t h = 0; h < sets; ++h) {
    const float shift = 0.1f * static_cast<float>(h);
    for (float v : {0.4f, 0.3f, 0.2f, 0.1f}) t.push_back(v + shift);
    for (float v : {-0.5f, 0.5f, -1.0f, 1.0f}) r.push_back(v + shift);
  }
  const Shape shape = per_head ? Shape{sets, 4} : Shape{4};
  return MultiMaxParams{Tensor::from_data(t, shape), Tensor::from_data(r, shape), per_head ? 2 : 1};
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
    const std::optional<MultiMaxParams> multimax = multimax_of(row);
    const MultiMaxParams* n = multimax ? &*multimax : nullptr;
    for (MatmulPrecision precision : {MatmulPrecision::fp32, MatmulPrecision::bf16})
      for (float scale : {1.0f, 0.35f}) {
        CAPTURE(to_string(precision));
        CAPTURE(scale);
        // bf16: the naive chain rounds the same operands (p after the normalizer, as the fused
        // kernels do), so the two agree to fp32 summation as fp32's do.
        const float tolerance = row.tolerance;
        const kernels::CausalAttention fast =
            kernels::causal_attention_forward(x.q, x.k, x.v, scale, n, Tensor(), true, precision);
        const kernels::CausalAttention naive =
            kernels::causal_attention_forward_naive(x.q, x.k, x.v, scale, n, precision);
        CHECK(max_abs_diff(fast.y, naive.y) <= tolerance);
        // Both normalizers keep scores and row norms, not p: the weights come back from them.
        CHECK_FALSE(fast.p.defined());
        CHECK(max_abs_diff(kernels::causal_attention_weights(fast, n), naive.p) <= tolerance);

        // Without a backward to serve (evaluation), the same y and nothing kept.
        const kernels::CausalAttention eval = kernels::causal_attention_forward(
            x.q, x.k, x.v, scale, n, Tensor(), /*for_backward=*/false, precision);
        CHECK(same_bits(eval.y, fast.y));
        CHECK_FALSE((eval.p.defined() || eval.scores.defined() || eval.norms.defined()));

        const Tensor gy = Tensor::uniform(x.q.shape(), gen, -1.0f, 1.0f);
        const kernels::CausalAttentionGradients g =
            kernels::causal_attention_backward(x.q, x.k, x.v, fast, gy, scale, n, {}, precision);
        const kernels::CausalAttentionGradients ref =
            kernels::causal_attention_backward_naive(x.q, x.k, x.v, naive, gy, scale, n, precision);
        CHECK(max_abs_diff(g.dq, ref.dq) <= tolerance);
        CHECK(max_abs_diff(g.dk, ref.dk) <= tolerance);
        CHECK(max_abs_diff(g.dv, ref.dv) <= tolerance);
        if (n) {  // sums over every score: tolerance grows with their count
          const float sum_tolerance = tolerance * static_cast<float>(row.T);
          CHECK(max_abs_diff(g.dt, ref.dt) <= sum_tolerance);
          CHECK(max_abs_diff(g.dr, ref.dr) <= sum_tolerance);
        }
      }
    // The bf16 rounding happened (for more than one key per query).
    if (row.T > 1) {
      const Tensor y32 = kernels::causal_attention_forward(x.q, x.k, x.v, 1.0f, n).y;
      const Tensor y16 = kernels::causal_attention_forward(x.q, x.k, x.v, 1.0f, n, Tensor(), true,
                                                           MatmulPrecision::bf16)
                             .y;
      CHECK(max_abs_diff(y16, y32) > 1e-5f);
    }
  }
}

TEST_CASE("the causal_self_attention op gives the unfused ops' values and gradients, bit for bit") {
  // In either precision: the op and the unfused ops run the same per-matrix products.
  for (MatmulPrecision precision : {MatmulPrecision::fp32, MatmulPrecision::bf16})
    for (const Row& row : kRows) {
      CAPTURE(to_string(precision));
      CAPTURE(row.name);
      const MatmulPrecisionGuard guard(precision);
      Generator gen(9);
      const int64_t B = row.batch, H = row.heads, T = row.T, D = row.heads * row.d;
      const Tensor qkv = Tensor::uniform({B, T, 3 * D}, gen, -1.0f, 1.0f);
      const std::optional<MultiMaxParams> n = multimax_of(row);
      const float scale = 0.35f;
      const Tensor gy = Tensor::uniform({B, T, D}, gen, -1.0f, 1.0f);
      // Both from fresh leaves; returns y and the gradients of qkv (and of t, r).
      auto run = [&](bool fused) {
        std::vector<Tensor> leaves{qkv.detach().requires_grad_()};
        MultiMaxParams params;
        if (n) {
          params = {n->t.detach().requires_grad_(), n->r.detach().requires_grad_(), n->order};
          leaves.push_back(params.t);
          leaves.push_back(params.r);
        }
        const MultiMaxParams* multimax = n ? &params : nullptr;
        Tensor y;
        if (fused) {
          y = causal_self_attention(leaves[0], H, scale, multimax);
        } else {  // the unfused chain attention ran before: heads as views, three ops, merged
          const Tensor all = permute(reshape(leaves[0], {B, T, 3 * H, row.d}), {0, 2, 1, 3});
          const Tensor q = slice(all, 1, 0, H), k = slice(all, 1, H, 2 * H),
                       v = slice(all, 1, 2 * H, 3 * H);
          const Tensor s = causal_scores(q, k, scale);
          const Tensor w = multimax ? mmx::multimax(s, *multimax, Tensor(), /*causal=*/true)
                                    : softmax_temperature(s, 1.0f, Tensor(), /*causal=*/true);
          y = reshape(transpose(causal_weighted_sum(w, v), 1, 2), {B, T, D});
        }
        y.backward(gy);
        std::vector<Tensor> out{y.detach()};
        for (const Tensor& leaf : leaves) out.push_back(leaf.grad());
        return out;
      };
      const std::vector<Tensor> fused = run(true), unfused = run(false);
      const char* names[] = {"y", "dqkv", "dt", "dr"};
      for (size_t i = 0; i < fused.size(); ++i) {
        CAPTURE(names[i]);
        // dt and dr are sums over every score, split among the threads by rows in the one and by
        // matrices in the other: equal to rounding when the splits differ.
        if (i >= 2)
          CHECK(max_abs_diff(fused[i], unfused[i]) <= 1e-5f * static_cast<float>(row.T));
        else
          CHECK(same_bits(fused[i], unfused[i]));
      }
    }
}

TEST_CASE("causal_self_attention: gradcheck with SoftMax and with MultiMax's t and r") {
  Generator gen(3);
  const Tensor qkv = Tensor::uniform({1, 9, 3 * 2 * 4}, gen, -1.0f, 1.0f).requires_grad_();
  GradcheckOptions opt;
  opt.atol = 2e-3f;
  const GradcheckResult softmax =
      gradcheck([](const std::vector<Tensor>& in) { return causal_self_attention(in[0], 2, 0.5f); },
                {qkv}, opt);
  CHECK_MESSAGE(softmax.ok, softmax.message);
  for (int order : {1, 2}) {
    CAPTURE(order);
    const Tensor t = Tensor::from_data({0.4f, 0.3f, 0.2f, 0.1f, 0.5f, 0.2f, 0.3f, 0.2f}, {2, 4})
                         .requires_grad_();
    // Breakpoints in gaps between the scores (at least 0.02 from each): a central difference
    // across a kink is no derivative.
    const Tensor r =
        Tensor::from_data({-0.48f, 0.25f, -0.66f, 0.45f, -0.44f, 0.05f, -0.545f, 0.45f}, {2, 4})
            .requires_grad_();
    const GradcheckResult multimax = gradcheck(
        [order](const std::vector<Tensor>& in) {
          const MultiMaxParams params{in[1], in[2], order};
          return causal_self_attention(in[0], 2, 0.5f, &params);
        },
        {qkv, t, r}, opt);
    CHECK_MESSAGE(multimax.ok, multimax.message);
  }
  autograd::clear_tape();
}

TEST_CASE("causal_self_attention names itself and the shapes on bad input") {
  CHECK_THROWS_WITH_AS(causal_self_attention(Tensor::zeros({2, 4, 10}), 3, 1.0f),
                       doctest::Contains("causal_self_attention: need qkv [B, T, 3 x heads x head "
                                         "size], got [2, 4, 10] for 3 heads"),
                       Error);
  const MultiMaxParams three_heads{Tensor::zeros({3, 4}), Tensor::zeros({3, 4}), 2};
  CHECK_THROWS_WITH_AS(causal_self_attention(Tensor::zeros({2, 4, 24}), 2, 1.0f, &three_heads),
                       doctest::Contains("per-head parameters of shape [3, 4]"), Error);
  const Tensor a = Tensor::zeros({2, 3, 4, 5});
  CHECK_THROWS_WITH_AS(
      kernels::causal_attention_forward(a, a, Tensor::zeros({2, 3, 4, 6}), 1.0f, nullptr),
      doctest::Contains("causal_attention: need q, k, v [..., T, d] of one "
                        "shape, got [2, 3, 4, 5], [2, 3, 4, 5] and [2, 3, 4, 6]"),
      Error);
  // A backward needs what the forward kept: an evaluation forward kept nothing.
  for (const bool multimax : {false, true}) {
    const MultiMaxParams per_layer{Tensor::zeros({4}), Tensor::zeros({4}), 1};
    const MultiMaxParams* n = multimax ? &per_layer : nullptr;
    const kernels::CausalAttention eval =
        kernels::causal_attention_forward(a, a, a, 1.0f, n, Tensor(), /*for_backward=*/false);
    CHECK_THROWS_WITH_AS(kernels::causal_attention_backward(a, a, a, eval, a, 1.0f, n),
                         doctest::Contains("causal_attention backward: the forward kept nothing "
                                           "for a backward"),
                         Error);
  }
  const Tensor too_small = Tensor::zeros({2, 3, 4});
  CHECK_THROWS_WITH_AS(kernels::causal_attention_forward(a, a, a, 1.0f, nullptr, too_small),
                       doctest::Contains("output of shape [2, 3, 4, 5] cannot go into [2, 3, 4]"),
                       Error);
}
