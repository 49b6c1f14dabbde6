// Module: nested parameter names, counts, train/eval, state dict round trip and its errors.
#include <doctest/doctest.h>

#include "engine/error.hpp"
#include "nn/layers/embedding.hpp"
#include "nn/layers/layer_norm.hpp"
#include "nn/layers/linear.hpp"

using namespace mmx;
using namespace mmx::nn;

namespace {

// Two levels of nesting: Outer{scale, inner{ln, proj}}.
struct Inner : Module {
  LayerNorm ln{4};
  Linear proj;
  explicit Inner(Generator& gen) : proj(4, 3, gen) {
    register_module("ln", ln);
    register_module("proj", proj);
  }
};

struct Outer : Module {
  Tensor scale;
  Inner inner;
  explicit Outer(Generator& gen) : inner(gen) {
    scale = register_parameter("scale", Tensor::ones({2}));
    register_module("inner", inner);
  }
};

std::vector<std::string> names_of(const NamedTensors& tensors) {
  std::vector<std::string> out;
  for (const auto& [name, t] : tensors) out.push_back(name);
  return out;
}

}  // namespace

TEST_CASE("Module names nested parameters in registration order and counts them") {
  Generator gen(1);
  Outer model(gen);
  CHECK(names_of(model.named_parameters()) ==
        std::vector<std::string>{"scale", "inner.ln.weight", "inner.ln.bias", "inner.proj.weight",
                                 "inner.proj.bias"});
  CHECK(model.parameter_count() == 2 + 4 + 4 + 12 + 3);
  for (const Tensor& p : model.parameters()) CHECK(p.requires_grad());
  Linear no_bias(5, 7, gen, false);
  CHECK(no_bias.parameter_count() == 35);
  CHECK(!no_bias.bias().defined());
  Embedding emb(11, 3, gen);
  CHECK(names_of(emb.named_parameters()) == std::vector<std::string>{"weight"});
}

TEST_CASE("Module train/eval reaches every child") {
  Generator gen(1);
  Outer model(gen);
  CHECK(model.inner.proj.is_training());
  model.eval();
  CHECK(!model.is_training());
  CHECK(!model.inner.proj.is_training());
  model.train();
  CHECK(model.inner.ln.is_training());
}

TEST_CASE("Module refuses duplicate and dotted names") {
  struct Bad : Module {
    void twice() {
      register_parameter("w", Tensor::zeros({1}));
      register_parameter("w", Tensor::zeros({1}));
    }
    void dotted() { register_parameter("a.b", Tensor::zeros({1})); }
  };
  Bad bad;
  CHECK_THROWS_AS(bad.twice(), Error);
  CHECK_THROWS_AS(bad.dotted(), Error);
}

TEST_CASE("state_dict round trip copies values into another model") {
  Generator gen_a(1), gen_b(2);
  Outer a(gen_a), b(gen_b);
  CHECK(a.inner.proj.weight().to_vector() != b.inner.proj.weight().to_vector());
  b.load_state_dict(a.state_dict());
  auto sa = a.state_dict(), sb = b.state_dict();
  REQUIRE(sa.size() == sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    CHECK(sa[i].first == sb[i].first);
    CHECK(sa[i].second.to_vector() == sb[i].second.to_vector());
  }
  // A copy, not an alias: b's parameters keep their own storage.
  CHECK(!b.inner.proj.weight().shares_storage(a.inner.proj.weight()));
  // The state dict shares storage with the model and carries no autograd.
  CHECK(sa[3].second.shares_storage(a.inner.proj.weight()));
  CHECK(!sa[3].second.requires_grad());
}

TEST_CASE("load_state_dict names the offending tensor and changes nothing on error") {
  Generator gen_a(1), gen_b(2);
  Outer a(gen_a), b(gen_b);
  const std::vector<float> before = b.inner.proj.weight().to_vector();
  auto message_of = [&](const NamedTensors& state) {
    try {
      b.load_state_dict(state);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };

  NamedTensors wrong_shape = a.state_dict();
  wrong_shape.back().second = Tensor::zeros({4});  // inner.proj.bias should be [3]
  std::string msg = message_of(wrong_shape);
  CHECK(msg.find("inner.proj.bias") != std::string::npos);
  CHECK(msg.find("[4]") != std::string::npos);
  CHECK(msg.find("[3]") != std::string::npos);

  NamedTensors missing = a.state_dict();
  missing.erase(missing.begin());
  CHECK(message_of(missing).find("missing tensor 'scale'") != std::string::npos);

  NamedTensors extra = a.state_dict();
  extra.emplace_back("inner.head.weight", Tensor::zeros({2, 2}));
  CHECK(message_of(extra).find("unexpected tensor 'inner.head.weight'") != std::string::npos);

  NamedTensors duplicated = a.state_dict();
  duplicated.push_back(duplicated.front());
  CHECK(message_of(duplicated).find("appears twice") != std::string::npos);

  // The valid tensors in those failed loads were not copied.
  CHECK(b.inner.proj.weight().to_vector() == before);
}
