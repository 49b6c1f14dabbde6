// Optimizers against hand-computed steps, the warmup+cosine schedule, gradient clipping, and
// the optimizer state round trip used by checkpoints.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/error.hpp"
#include "nn/optim/adamw.hpp"
#include "nn/optim/grad_clip.hpp"
#include "nn/optim/lr_schedule.hpp"
#include "nn/optim/sgd.hpp"

using namespace mmx;
using namespace mmx::nn;

namespace {

Tensor parameter(const std::vector<float>& values, const Shape& shape) {
  Tensor p = Tensor::from_data(values, shape);
  p.requires_grad_(true);
  return p;
}

void set_grad(Tensor p, const std::vector<float>& values) {
  p.set_grad(Tensor::from_data(values, p.shape()));
}

}  // namespace

TEST_CASE("AdamW: two steps by hand, decay only on the matrix") {
  Tensor w = parameter({1.0f, -2.0f}, {1, 2});  // 2-d: decayed
  Tensor b = parameter({0.5f}, {1});            // 1-d: not decayed
  AdamWOptions opt;
  opt.learning_rate = 0.1f;
  opt.beta1 = 0.9f;
  opt.beta2 = 0.99f;
  opt.eps = 1e-8f;
  opt.weight_decay = 0.5f;
  AdamW adam({{"w", w}, {"b", b}}, opt);

  // Step 1: m = 0.1 g, v = 0.01 g^2, bias-corrected m/sqrt(v) = sign(g).
  set_grad(w, {0.5f, -0.25f});
  set_grad(b, {2.0f});
  adam.step();
  // w0 = 1: 1 * (1 - 0.1*0.5) - 0.1 * 1 = 0.85;  w1 = -2 * 0.95 + 0.1 = -1.8
  CHECK(w.at({0, 0}) == doctest::Approx(0.85).epsilon(1e-6));
  CHECK(w.at({0, 1}) == doctest::Approx(-1.8).epsilon(1e-6));
  CHECK(b.item() == doctest::Approx(0.4).epsilon(1e-6));

  // Step 2 on b with g = 1: m = 0.9*0.2 + 0.1*1 = 0.28, v = 0.99*0.04 + 0.01*1 = 0.0496,
  // mhat = 0.28 / 0.19, vhat = 0.0496 / 0.0199.
  set_grad(w, {0.0f, 0.0f});
  set_grad(b, {1.0f});
  adam.step();
  double expected = 0.4 - 0.1 * (0.28 / 0.19) / (std::sqrt(0.0496 / 0.0199) + 1e-8);
  CHECK(b.item() == doctest::Approx(expected).epsilon(1e-5));
  CHECK(adam.step_count() == 2);
}

TEST_CASE("weight decay: matrices only, never MultiMax parameters, even per head") {
  CHECK(receives_weight_decay("blocks.0.attn.qkv.weight", Tensor::zeros({6, 2})));
  CHECK(receives_weight_decay("tok.weight", Tensor::zeros({11, 4})));
  CHECK(!receives_weight_decay("blocks.0.attn.qkv.bias", Tensor::zeros({6})));
  CHECK(!receives_weight_decay("ln.weight", Tensor::zeros({4})));
  CHECK(!receives_weight_decay("blocks.1.attn.multimax.t", Tensor::zeros({2, 4})));
  CHECK(!receives_weight_decay("head_multimax.r", Tensor::zeros({4})));

  // A per-head [H, 4] MultiMax parameter with zero gradient stays put; a matrix shrinks.
  Tensor t = parameter({0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f}, {2, 4});
  Tensor w = parameter({0.5f, 0.5f}, {1, 2});
  AdamW adam({{"attn.multimax.t", t}, {"w", w}}, AdamWOptions{.learning_rate = 0.1f});
  set_grad(t, std::vector<float>(8, 0.0f));
  set_grad(w, {0.0f, 0.0f});
  adam.step();
  CHECK(t.to_vector() == std::vector<float>(8, 0.5f));
  CHECK(w.at({0, 0}) == doctest::Approx(0.5 * (1.0 - 0.1 * 0.1)));
}

TEST_CASE("multimax_lr_scale: MultiMax's t and r step that many times further, nothing else") {
  // Adam's first step moves every element by lr * sign(g) (m/sqrt(v) = g/|g| after the bias
  // corrections), so the step sizes show the per-parameter rate directly.
  Tensor t = parameter({0.0f, 0.0f}, {2});
  Tensor r = parameter({0.0f, 0.0f}, {2});
  Tensor b = parameter({0.0f, 0.0f}, {2});
  AdamWOptions options{.learning_rate = 0.01f, .weight_decay = 0.0f};
  options.multimax_lr_scale = 10.0f;
  AdamW adam({{"blocks.0.attn.multimax.t", t}, {"head_multimax.r", r}, {"blocks.0.ln.bias", b}},
             options);
  for (Tensor* p : {&t, &r, &b}) set_grad(*p, {1.0f, -2.0f});
  adam.step();
  CHECK(t.at({0}) == doctest::Approx(-0.1).epsilon(1e-5));
  CHECK(t.at({1}) == doctest::Approx(0.1).epsilon(1e-5));
  CHECK(r.at({0}) == doctest::Approx(-0.1).epsilon(1e-5));
  CHECK(b.at({0}) == doctest::Approx(-0.01).epsilon(1e-5));
  CHECK(b.at({1}) == doctest::Approx(0.01).epsilon(1e-5));

  options.multimax_lr_scale = 0.0f;
  CHECK_THROWS_WITH_AS(AdamW({{"w", b}}, options),
                       doctest::Contains("multimax_lr_scale must be a positive number"), Error);
}

TEST_CASE("AdamW skips parameters without a gradient") {
  Tensor w = parameter({3.0f, 4.0f}, {2, 1});
  AdamW adam({{"w", w}}, AdamWOptions{});
  adam.step();
  CHECK(w.to_vector() == std::vector<float>{3.0f, 4.0f});
}

TEST_CASE("SGD with momentum: two steps by hand") {
  Tensor w = parameter({1.0f, 2.0f}, {2});
  SGD sgd({{"w", w}}, 0.1f, 0.9f);
  set_grad(w, {1.0f, -1.0f});
  sgd.step();  // buf = g; w = w - 0.1 g
  CHECK(w.at({0}) == doctest::Approx(0.9));
  CHECK(w.at({1}) == doctest::Approx(2.1));
  set_grad(w, {0.5f, 0.0f});
  sgd.step();  // buf = 0.9 buf + g = (1.4, -0.9)
  CHECK(w.at({0}) == doctest::Approx(0.9 - 0.14));
  CHECK(w.at({1}) == doctest::Approx(2.1 + 0.09));
  CHECK_THROWS_AS(SGD({{"w", w}}, 0.1f, 1.5f), Error);
}

TEST_CASE("optimizer state round trip resumes the same trajectory") {
  auto run = [](AdamW& adam, Tensor w, int steps) {
    for (int i = 0; i < steps; ++i) {
      set_grad(w, {0.3f * static_cast<float>(i + 1), -0.7f});
      adam.step();
    }
  };
  Tensor w1 = parameter({1.0f, 1.0f}, {1, 2});
  AdamW straight({{"w", w1}}, AdamWOptions{});
  run(straight, w1, 3);

  Tensor w2 = parameter({1.0f, 1.0f}, {1, 2});
  AdamW first({{"w", w2}}, AdamWOptions{});
  run(first, w2, 2);
  NamedTensors state = first.state_tensors();
  REQUIRE(state.size() == 3);
  CHECK(state[0].first == "step");
  CHECK(state[1].first == "m.w");
  CHECK(state[2].first == "v.w");

  AdamW resumed({{"w", w2}}, AdamWOptions{});
  resumed.load_state_tensors(state);
  CHECK(resumed.step_count() == 2);
  set_grad(w2, {0.9f, -0.7f});
  resumed.step();
  CHECK(w2.to_vector() == w1.to_vector());

  NamedTensors bad = state;
  bad[1].second = Tensor::zeros({2});
  CHECK_THROWS_WITH_AS(resumed.load_state_tensors(bad), doctest::Contains("m.w"), Error);
}

TEST_CASE("warmup + cosine schedule") {
  WarmupCosineSchedule s{.peak_lr = 1.0f, .min_lr = 0.1f, .warmup_steps = 4, .total_steps = 14};
  CHECK(s.lr_at(0) == doctest::Approx(0.25));
  CHECK(s.lr_at(3) == doctest::Approx(1.0));
  CHECK(s.lr_at(4) == doctest::Approx(1.0));   // cosine starts at the peak
  CHECK(s.lr_at(9) == doctest::Approx(0.55));  // halfway: (peak + floor) / 2
  CHECK(s.lr_at(14) == doctest::Approx(0.1));
  CHECK(s.lr_at(1000) == doctest::Approx(0.1));
  for (int64_t step = 5; step < 14; ++step) CHECK(s.lr_at(step) < s.lr_at(step - 1));
  // Extended at step 9 (rate 0.55) from 14 to 25 steps: a new cosine from 0.55 to the floor.
  const WarmupCosineSchedule e = s.extended(9, 25);
  CHECK(e.total_steps == 25);
  CHECK(e.extended_at == 9);
  CHECK(e.lr_at(9) == s.lr_at(9));               // no jump at the extension
  CHECK(e.lr_at(17) == doctest::Approx(0.325));  // halfway: (0.55 + 0.1) / 2
  CHECK(e.lr_at(25) == doctest::Approx(0.1));
  for (int64_t step = 10; step <= 25; ++step) CHECK(e.lr_at(step) < e.lr_at(step - 1));
  // A finished run is at the floor and stays there; within the warmup only the total moves.
  CHECK(s.extended(14, 20).lr_at(17) == doctest::Approx(0.1));
  const WarmupCosineSchedule early = s.extended(2, 24);
  CHECK(early.extended_at == 0);
  CHECK(early.lr_at(2) == s.lr_at(2));
  CHECK(early.lr_at(4) == doctest::Approx(1.0));
  CHECK(early.lr_at(14) == doctest::Approx(0.55));  // the cosine's middle moved to (4 + 24) / 2
  CHECK_THROWS_AS(s.extended(9, 14), Error);        // not beyond the end
  CHECK_THROWS_AS(s.extended(15, 20), Error);       // a step past the old end
  WarmupCosineSchedule bad{.warmup_steps = 10, .total_steps = 10};
  CHECK_THROWS_AS(bad.lr_at(0), Error);
}

TEST_CASE("clip_grad_norm returns the global norm and scales only when above max") {
  Tensor a = parameter({0.0f, 0.0f}, {2});
  Tensor b = parameter({0.0f}, {1});
  Tensor untouched = parameter({0.0f}, {1});  // no gradient: skipped
  set_grad(a, {3.0f, 0.0f});
  set_grad(b, {4.0f});
  CHECK(clip_grad_norm({a, b, untouched}, 10.0f) == doctest::Approx(5.0));
  CHECK(a.grad().at({0}) == doctest::Approx(3.0));  // below max: unchanged
  CHECK(clip_grad_norm({a, b, untouched}, 1.0f) == doctest::Approx(5.0));
  CHECK(a.grad().at({0}) == doctest::Approx(0.6).epsilon(1e-5));
  CHECK(b.grad().at({0}) == doctest::Approx(0.8).epsilon(1e-5));
  CHECK(clip_grad_norm({a, b}, 1.0f) == doctest::Approx(1.0).epsilon(1e-5));
  CHECK(!untouched.grad().defined());
}
