// The C++ GPT against PyTorch: tests/make_torch_gpt_fixture.py builds the same tiny model as the
// benchmark reference, and this test loads its weights by name, runs forward + backward, and
// matches logits, loss and every parameter gradient (float64 reference, 1e-4 relative).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "nn/models/gpt.hpp"

using namespace mmx;
using namespace mmx::nn;
using nlohmann::json;

namespace {

json read_fixture(const std::string& name) {
  const std::string path = std::string(MMX_TEST_DATA_DIR) + "/gpt_fixture_" + name + ".json";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "missing fixture ", path);
  return json::parse(in);
}

Tensor tensor_from(const json& j) {
  return Tensor::from_data(j.at("data").get<std::vector<float>>(),
                           j.at("shape").get<std::vector<int64_t>>());
}

// Largest |a - b| relative to the largest |b| of the tensor: a per-element relative error
// would blow up on gradients that are zero up to rounding.
double relative_error(const Tensor& actual, const json& expected) {
  const std::vector<float> a = actual.to_vector();
  const std::vector<double> b = expected.at("data").get<std::vector<double>>();
  REQUIRE(a.size() == b.size());
  double max_diff = 0.0, scale = 1e-12;
  for (size_t i = 0; i < a.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(a[i] - b[i]));
    scale = std::max(scale, std::fabs(b[i]));
  }
  return max_diff / scale;
}

void check_against_torch(const std::string& name) {
  CAPTURE(name);
  const json fixture = read_fixture(name);
  const GPTConfig config = fixture.at("config").get<GPTConfig>();
  GPT model(config, /*seed=*/123);

  NamedTensors weights;
  for (const auto& [param_name, value] : fixture.at("parameters").items())
    weights.emplace_back(param_name, tensor_from(value));
  model.load_state_dict(weights);  // every name and shape must match the reference's

  const int64_t batch = fixture.at("batch").get<int64_t>();
  const auto ids = fixture.at("ids").get<std::vector<int64_t>>();
  const auto targets = fixture.at("targets").get<std::vector<int64_t>>();
  Tensor logits = model.forward(ids, batch, config.seq_len);
  CHECK(relative_error(logits, fixture.at("logits")) < 1e-4);
  Tensor loss = model.loss(ids, targets, batch, config.seq_len);
  CHECK(loss.item() == doctest::Approx(fixture.at("loss").get<double>()).epsilon(1e-4));

  model.zero_grad();
  loss.backward();
  const json& gradients = fixture.at("gradients");
  for (const auto& [param_name, param] : model.named_parameters()) {
    CAPTURE(param_name);
    REQUIRE(gradients.contains(param_name));
    REQUIRE(param.grad().defined());
    CHECK(relative_error(param.grad(), gradients.at(param_name)) < 1e-4);
  }
}

}  // namespace

TEST_CASE("GPT with softmax attention matches PyTorch: loss and every gradient") {
  check_against_torch("softmax");
}

TEST_CASE("GPT with MultiMax attention (per layer) matches PyTorch") {
  check_against_torch("multimax");
}

TEST_CASE("GPT with per-head MultiMax and MultiMax logits matches PyTorch") {
  check_against_torch("multimax_per_head_logits");
}
