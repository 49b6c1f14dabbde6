// Matches the engine against PyTorch on a small composite function: a 2-layer MLP with layer
// norm, GELU (tanh form) and softmax cross-entropy. tests/make_torch_fixture.py wrote the
// inputs, the loss and every gradient (computed in float64) to tests/data/mlp_fixture.json;
// here the same function is rebuilt from engine ops and must agree to 1e-5 relative.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/autograd/tape.hpp"
#include "engine/ops.hpp"

using namespace mmx;

namespace {

nlohmann::json load_fixture() {
  const std::string path = std::string(MMX_TEST_DATA_DIR) + "/mlp_fixture.json";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open ", path);
  return nlohmann::json::parse(in);
}

Tensor tensor_from(const nlohmann::json& j) {
  return Tensor::from_data(j.at("data").get<std::vector<float>>(), j.at("shape").get<Shape>());
}

// float32 against float64 PyTorch: relative 1e-5, with an absolute floor for values near 0
// (a gradient that is a difference of nearly equal terms).
void check_matches(const std::vector<double>& want, const std::vector<float>& got,
                   const std::string& what) {
  REQUIRE(want.size() == got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const double err = std::fabs(got[i] - want[i]);
    CHECK_MESSAGE(err <= 1e-5 * std::fabs(want[i]) + 2e-7, what, "[", i, "]: engine ", got[i],
                  ", torch ", want[i]);
  }
}

}  // namespace

TEST_CASE("torch fixture: MLP + layer norm + GELU(tanh) + cross-entropy, loss and gradients") {
  const nlohmann::json fx = load_fixture();
  REQUIRE(fx.at("gelu") == "tanh");
  std::map<std::string, Tensor> p;
  for (const auto& [name, value] : fx.at("inputs").items())
    p[name] = tensor_from(value).requires_grad_();
  const auto targets = fx.at("targets").get<std::vector<int64_t>>();
  const auto eps = fx.at("eps").get<float>();
  const auto ignore_index = fx.at("ignore_index").get<int64_t>();

  const Tensor h = layer_norm(linear(p["x"], p["w1"], p["b1"]), p["ln_w"], p["ln_b"], eps);
  const Tensor logits = linear(gelu(h, GeluForm::Tanh), p["w2"], p["b2"]);
  const Tensor loss = cross_entropy(logits, targets, ignore_index);
  loss.backward();

  check_matches({fx.at("loss").get<double>()}, {loss.item()}, "loss");
  for (const auto& [name, grad] : fx.at("grads").items()) {
    REQUIRE_MESSAGE(p[name].grad().defined(), "no gradient reached ", name);
    CHECK(p[name].grad().shape() == grad.at("shape").get<Shape>());
    check_matches(grad.at("data").get<std::vector<double>>(), p[name].grad().to_vector(),
                  "grad " + name);
  }
}
