// Reading the PyTorch fixtures (tests/make_torch_*_fixture.py -> tests/data/*.json) and holding
// a model's numbers against them element by element.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/tensor.hpp"
#include "nn/module.hpp"

// tests/data/<file>.json, parsed.
inline nlohmann::json read_torch_fixture(const std::string& file) {
  const std::string path = std::string(MMX_TEST_DATA_DIR) + "/" + file + ".json";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "missing fixture ", path);
  return nlohmann::json::parse(in);
}

// A fixture tensor {"shape": [...], "data": [...]} as float32.
inline mmx::Tensor fixture_tensor(const nlohmann::json& j) {
  return mmx::Tensor::from_data(j.at("data").get<std::vector<float>>(),
                                j.at("shape").get<std::vector<int64_t>>());
}

// Per element: |actual - expected| <= kFixtureAbsolute + kFixtureRelative * |expected|. The
// absolute part is for entries that are zero up to rounding. What float32 allows: PyTorch itself
// in float32, on the same weights, uses up to 0.72 of half this bound (the translator's logits,
// scores up to 8); this engine uses at most 0.48 of it (the same logits; the GPTs' worst, a
// cached logit, 0.20).
inline constexpr double kFixtureRelative = 1e-4, kFixtureAbsolute = 1e-6;

// Checks every element of `actual` against the fixture tensor `expected`; reports the worst one
// (its index and both values) when any is off.
inline void check_close(const std::vector<float>& actual, const nlohmann::json& expected,
                        const std::string& what) {
  const std::vector<double> want = expected.at("data").get<std::vector<double>>();
  REQUIRE(actual.size() == want.size());
  double worst = 0.0;  // the largest |a - b| / tolerance: above 1 fails
  size_t at = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double excess =
        std::fabs(actual[i] - want[i]) / (kFixtureAbsolute + kFixtureRelative * std::fabs(want[i]));
    if (excess > worst) worst = excess, at = i;
  }
  INFO(what, ": worst element ", at, " is ", actual[at], ", torch ", want[at], " (", worst,
       " x the tolerance)");
  CHECK(worst <= 1.0);
}

// Loads the fixture's "parameters" into `model`: every name and shape must match.
inline void load_fixture_weights(mmx::nn::Module& model, const nlohmann::json& fixture) {
  mmx::nn::NamedTensors weights;
  for (const auto& [name, value] : fixture.at("parameters").items())
    weights.emplace_back(name, fixture_tensor(value));
  model.load_state_dict(weights);
}

// After backward: every parameter's gradient against the fixture's "gradients".
inline void check_fixture_gradients(const mmx::nn::Module& model, const nlohmann::json& fixture) {
  const nlohmann::json& gradients = fixture.at("gradients");
  for (const auto& [name, param] : model.named_parameters()) {
    CAPTURE(name);
    REQUIRE(gradients.contains(name));
    REQUIRE(param.grad().defined());
    check_close(param.grad().contiguous().to_vector(), gradients.at(name), name);
  }
}
