// ViT: patch layout, shapes, parameter names, attention over every patch, config JSON, each
// normalizer, and a tiny synthetic image task learned in a few hundred steps.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/ops.hpp"
#include "nn/models/vit.hpp"
#include "nn/optim/adamw.hpp"

using namespace mmx;
using namespace mmx::nn;

namespace {

ViTConfig tiny_config() {
  ViTConfig c;
  c.image_size = 8;
  c.channels = 2;
  c.patch_size = 4;
  c.classes = 3;
  c.d_model = 16;
  c.layers = 2;
  c.heads = 2;
  return c;
}

const Tensor& parameter(const NamedTensors& parameters, const std::string& name) {
  for (const auto& [n, t] : parameters)
    if (n == name) return t;
  throw Error("no parameter " + name);
}

bool all_finite(const Tensor& t) {
  for (float v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

}  // namespace

TEST_CASE("ViT: patchify lays each patch out as channels then rows") {
  const ViTConfig c = tiny_config();
  ViT model(c, 1);
  // Pixel value encodes (b, channel, y, x).
  Tensor images = Tensor::empty({2, 2, 8, 8});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t ch = 0; ch < 2; ++ch)
      for (int64_t y = 0; y < 8; ++y)
        for (int64_t x = 0; x < 8; ++x)
          images.set({b, ch, y, x}, static_cast<float>(1000 * b + 100 * ch + 10 * y + x));
  const Tensor patches = model.patchify(images);
  REQUIRE(patches.shape() == Shape{2, 4, 32});
  // Token 3 is patch (row 1, col 1): pixels y, x in [4, 8). Feature (ch, dy, dx).
  for (int64_t ch = 0; ch < 2; ++ch)
    for (int64_t dy = 0; dy < 4; ++dy)
      for (int64_t dx = 0; dx < 4; ++dx) {
        CHECK(patches.at({1, 3, ch * 16 + dy * 4 + dx}) == images.at({1, ch, 4 + dy, 4 + dx}));
        CHECK(patches.at({0, 1, ch * 16 + dy * 4 + dx}) == images.at({0, ch, dy, 4 + dx}));
      }
  CHECK_THROWS_WITH_AS(model.patchify(Tensor::zeros({2, 1, 8, 8})),
                       doctest::Contains("expected images [B, 2, 8, 8], got [2, 1, 8, 8]"), Error);
  CHECK_THROWS_AS(model.forward(Tensor::zeros({2, 2, 8})), Error);
  CHECK_THROWS_WITH_AS(model.loss(Tensor::zeros({2, 2, 8, 8}), {0}),
                       doctest::Contains("1 labels for images [2, 2, 8, 8]"), Error);
}

TEST_CASE("ViT: shapes and parameter names") {
  ViTConfig c = tiny_config();
  c.attention.kind = AttentionKind::MultiMax;
  c.multimax_logits = true;
  ViT model(c, 1);
  const Tensor logits = model.forward(Tensor::zeros({5, 2, 8, 8}));
  CHECK(logits.shape() == Shape{5, 3});
  CHECK(model.predict(Tensor::zeros({5, 2, 8, 8})).size() == 5);

  std::vector<std::string> names;
  for (const auto& [name, tensor] : model.named_parameters()) names.push_back(name);
  const std::vector<std::string> expected_prefix{"pos",
                                                 "patch.weight",
                                                 "patch.bias",
                                                 "blocks.0.ln1.weight",
                                                 "blocks.0.ln1.bias",
                                                 "blocks.0.attn.qkv.weight",
                                                 "blocks.0.attn.qkv.bias",
                                                 "blocks.0.attn.proj.weight",
                                                 "blocks.0.attn.proj.bias",
                                                 "blocks.0.attn.multimax.t",
                                                 "blocks.0.attn.multimax.r"};
  REQUIRE(names.size() > expected_prefix.size());
  CHECK(std::vector<std::string>(names.begin(), names.begin() + 11) == expected_prefix);
  const std::vector<std::string> expected_suffix{"ln.weight", "ln.bias",         "head.weight",
                                                 "head.bias", "head_multimax.t", "head_multimax.r"};
  CHECK(std::vector<std::string>(names.end() - 6, names.end()) == expected_suffix);
  const auto params = model.named_parameters();
  CHECK(parameter(params, "patch.weight").shape() == Shape{16, 32});
  CHECK(parameter(params, "pos").shape() == Shape{4, 16});
  CHECK(parameter(params, "head.weight").shape() == Shape{3, 16});
  CHECK(std::count_if(names.begin(), names.end(),
                      [](const std::string& n) { return n.starts_with("blocks.1."); }) > 0);
  CHECK(std::count_if(names.begin(), names.end(),
                      [](const std::string& n) { return n.starts_with("blocks.2."); }) == 0);

  // The same seed builds the same weights.
  ViT again(c, 1);
  CHECK(parameter(again.named_parameters(), "patch.weight").to_vector() ==
        parameter(params, "patch.weight").to_vector());
}

TEST_CASE("ViT: attention is not causal, every patch sees every other") {
  ViT model(tiny_config(), 2);
  Generator gen(5);
  std::vector<AttentionMap> maps;
  {
    NoGrad no_grad;
    model.forward(Tensor::randn({1, 2, 8, 8}, gen), &maps);
  }
  REQUIRE(maps.size() == 2);
  const Tensor& p = maps[0].probabilities;
  REQUIRE(p.shape() == Shape{1, 2, 4, 4});
  // A causal mask would zero p[query 0, key 3]; here every weight is positive.
  for (float v : p.to_vector()) CHECK(v > 0.0f);
  CHECK(p.at({0, 0, 0, 3}) > 0.0f);
}

TEST_CASE("ViT: every normalizer runs forward and backward") {
  for (AttentionKind kind :
       {AttentionKind::Softmax, AttentionKind::MultiMax, AttentionKind::SparseMax,
        AttentionKind::EntMax15, AttentionKind::EvSoftmax}) {
    for (bool logits_multimax : {false, true}) {
      CAPTURE(attention_kind_name(kind));
      CAPTURE(logits_multimax);
      ViTConfig c = tiny_config();
      c.attention.kind = kind;
      c.multimax_logits = logits_multimax;
      ViT model(c, 3);
      Generator gen(4);
      Tensor loss = model.loss(Tensor::randn({4, 2, 8, 8}, gen), {0, 1, 2, 1});
      CHECK(std::isfinite(loss.item()));
      loss.backward();
      for (const auto& [name, p] : model.named_parameters()) {
        CAPTURE(name);
        REQUIRE(p.grad().defined());
        CHECK(all_finite(p.grad()));
      }
    }
  }
}

TEST_CASE("ViT: the two poolings, read through an identity classifier") {
  // With classes = d_model and the head set to the identity, the logits are the pooled vector.
  // mean-then-norm LayerNorms it: zero mean and unit variance over the features. norm-then-mean
  // averages unit-variance tokens: zero mean, variance below 1 unless every token is alike.
  ViTConfig c = tiny_config();
  c.classes = c.d_model;
  Generator gen(5);
  const Tensor images = Tensor::randn({3, 2, 8, 8}, gen);
  for (const ViTPooling pooling : {ViTPooling::MeanThenNorm, ViTPooling::NormThenMean}) {
    CAPTURE(vit_pooling_name(pooling));
    c.pooling = pooling;
    ViT model(c, 1);
    const auto params = model.named_parameters();
    Tensor weight = parameter(params, "head.weight"), bias = parameter(params, "head.bias");
    for (int64_t i = 0; i < c.d_model * c.d_model; ++i)
      weight.data()[i] = i % (c.d_model + 1) == 0 ? 1.0f : 0.0f;
    for (int64_t i = 0; i < c.d_model; ++i) bias.data()[i] = 0.0f;
    NoGrad no_grad;
    const std::vector<float> logits = model.forward(images).to_vector();
    for (int64_t b = 0; b < 3; ++b) {
      double sum = 0, squares = 0;
      for (int64_t f = 0; f < c.d_model; ++f) sum += logits[b * c.d_model + f];
      const double feature_mean = sum / static_cast<double>(c.d_model);
      for (int64_t f = 0; f < c.d_model; ++f)
        squares += std::pow(logits[b * c.d_model + f] - feature_mean, 2);
      const double variance = squares / static_cast<double>(c.d_model);
      CHECK(std::abs(feature_mean) < 1e-5);
      if (pooling == ViTPooling::MeanThenNorm) CHECK(variance == doctest::Approx(1).epsilon(1e-3));
      if (pooling == ViTPooling::NormThenMean) CHECK(variance < 0.99);
    }
  }
}

TEST_CASE("ViTConfig: JSON round trip and validation") {
  ViTConfig c = tiny_config();
  c.dropout = 0.125f;
  c.attention.kind = AttentionKind::EntMax15;
  c.attention.multimax_order = 1;
  c.attention.multimax_per_head = true;
  c.multimax_logits = true;
  const nlohmann::json j = c;
  const ViTConfig back = j.get<ViTConfig>();
  CHECK(nlohmann::json(back) == j);
  CHECK(back.patch_size == 4);
  CHECK(back.channels == 2);
  CHECK(back.attention.kind == AttentionKind::EntMax15);
  CHECK(back.attention.multimax_per_head);
  CHECK(back.pooling == ViTPooling::MeanThenNorm);
  CHECK(back.tokens() == 4);
  // pooling: spelled in the JSON; a config written before it reads as mean-then-norm.
  c.pooling = ViTPooling::NormThenMean;
  CHECK(nlohmann::json(c).at("pooling") == "norm-then-mean");
  CHECK(nlohmann::json(c).get<ViTConfig>().pooling == ViTPooling::NormThenMean);
  nlohmann::json before_pooling = c;
  before_pooling.erase("pooling");
  CHECK(before_pooling.get<ViTConfig>().pooling == ViTPooling::MeanThenNorm);
  before_pooling["pooling"] = "max";
  CHECK_THROWS_WITH_AS(before_pooling.get<ViTConfig>(),
                       doctest::Contains("unknown pooling 'max'; expected mean-then-norm"), Error);
  CHECK(back.patch_features() == 32);

  nlohmann::json missing = j;
  missing.erase("patch_size");
  CHECK_THROWS_WITH_AS(missing.get<ViTConfig>(), doctest::Contains("field 'patch_size' is missing"),
                       Error);
  nlohmann::json wrong_type = j;
  wrong_type["layers"] = "four";
  CHECK_THROWS_WITH_AS(wrong_type.get<ViTConfig>(),
                       doctest::Contains("field 'layers' must be an integer"), Error);
  // Not coerced: 1.9 is not read as 1 (issue 21).
  nlohmann::json fractional = j;
  fractional["layers"] = 1.9;
  CHECK_THROWS_WITH_AS(fractional.get<ViTConfig>(),
                       doctest::Contains("ViTConfig: field 'layers' must be an integer"), Error);
  nlohmann::json bad_patch = j;
  bad_patch["patch_size"] = 3;
  CHECK_THROWS_WITH_AS(
      bad_patch.get<ViTConfig>(),
      doctest::Contains("patch_size (3) must be positive and divide image_size (8)"), Error);
  nlohmann::json bad_heads = j;
  bad_heads["heads"] = 3;
  CHECK_THROWS_WITH_AS(bad_heads.get<ViTConfig>(), doctest::Contains("ViTConfig: heads (3)"),
                       Error);
  nlohmann::json bad_attention = j;
  bad_attention["attention"] = "hardmax";
  CHECK_THROWS_WITH_AS(bad_attention.get<ViTConfig>(),
                       doctest::Contains("unknown attention kind 'hardmax'"), Error);
}

TEST_CASE("ViT: learns a tiny synthetic image task") {
  // Four classes: a bright 4x4 square in one of the four quadrants of a noisy 8x8 image. The
  // class is only visible by comparing patches, so the model must use what attention gathers.
  ViTConfig c;
  c.image_size = 8;
  c.channels = 1;
  c.patch_size = 4;
  c.classes = 4;
  c.d_model = 16;
  c.layers = 1;
  c.heads = 2;
  c.attention.kind = AttentionKind::MultiMax;
  c.multimax_logits = true;
  ViT model(c, 11);
  AdamW optimizer(model.named_parameters(),
                  AdamWOptions{.learning_rate = 3e-3f, .weight_decay = 0.0f});
  Generator gen(12);
  const auto make_batch = [&](int64_t n, std::vector<int64_t>& labels) {
    Tensor images = Tensor::randn({n, 1, 8, 8}, gen, 0.0f, 0.5f);
    labels.resize(static_cast<size_t>(n));
    for (int64_t b = 0; b < n; ++b) {
      const int64_t label = static_cast<int64_t>(gen.below(4));
      labels[static_cast<size_t>(b)] = label;
      for (int64_t y = 0; y < 4; ++y)
        for (int64_t x = 0; x < 4; ++x) {
          const int64_t py = 4 * (label / 2) + y, px = 4 * (label % 2) + x;
          images.set({b, 0, py, px}, images.at({b, 0, py, px}) + 1.0f);
        }
    }
    return images;
  };
  std::vector<int64_t> labels;
  float first_loss = 0.0f, last_loss = 0.0f;
  for (int step = 0; step < 200; ++step) {
    Tensor images = make_batch(32, labels);
    optimizer.zero_grad();
    Tensor loss = model.loss(images, labels);
    loss.backward();
    optimizer.step();
    if (step == 0) first_loss = loss.item();
    last_loss = loss.item();
  }
  CHECK(first_loss > 1.2f);  // about ln 4 = 1.39 at the start
  CHECK(last_loss < 0.3f * first_loss);
  model.eval();
  const Tensor held_out = make_batch(200, labels);
  const std::vector<int64_t> predicted = model.predict(held_out);
  int64_t correct = 0;
  for (size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == labels[i];
  CHECK(correct >= 180);
}
