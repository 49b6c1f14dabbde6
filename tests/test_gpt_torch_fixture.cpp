// The C++ GPT against PyTorch: tests/make_torch_gpt_fixture.py builds the same tiny model as the
// benchmark reference, and this test loads its weights by name and matches logits, loss and
// every parameter gradient (float64 reference) on every path that computes them: the fused
// attention, the unfused one that captures the attention maps, and the KV cache fed one token at
// a time and in chunks. The fixtures cover order 1 and 2, T from 8 to 40, t of both signs and
// scores on both sides of every breakpoint (the script's comment says which case has what).
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/ops.hpp"
#include "nn/models/gpt.hpp"
#include "torch_fixture.hpp"

using namespace mmx;
using namespace mmx::nn;
using nlohmann::json;

namespace {

const std::vector<std::string> kFixtures = {
    "softmax",
    "multimax",
    "multimax_per_head_logits",
    "order1_t17",
    "softmax_t40",
    "order1_per_head_logits_t40",
    "order2_per_head_logits_t33",
};

struct Fixture {
  json data;
  GPTConfig config;
  int64_t batch;
  std::vector<int64_t> ids, targets;
};

Fixture load(const std::string& name) {
  Fixture f{read_torch_fixture("gpt_fixture_" + name), {}, 0, {}, {}};
  f.config = f.data.at("config").get<GPTConfig>();
  f.batch = f.data.at("batch").get<int64_t>();
  f.ids = f.data.at("ids").get<std::vector<int64_t>>();
  f.targets = f.data.at("targets").get<std::vector<int64_t>>();
  return f;
}

std::unique_ptr<GPT> model_of(const Fixture& f) {
  auto model = std::make_unique<GPT>(f.config, /*seed=*/123);
  load_fixture_weights(*model, f.data);
  return model;
}

// Forward, loss and backward through the fused attention or, with `capture`, the unfused one
// that keeps every layer's scores and weights.
void check_training_path(const Fixture& f, bool capture) {
  const std::unique_ptr<GPT> model = model_of(f);
  std::vector<AttentionMap> maps;
  const int64_t T = f.config.seq_len;
  const Tensor logits = model->forward(f.ids, f.batch, T, capture ? &maps : nullptr);
  if (capture) CHECK(maps.size() == static_cast<size_t>(f.config.layers));
  check_close(logits.contiguous().to_vector(), f.data.at("logits"), "logits");
  Tensor loss = cross_entropy(logits, f.targets);
  CHECK(loss.item() == doctest::Approx(f.data.at("loss").get<double>()).epsilon(1e-5));
  model->zero_grad();
  loss.backward();
  check_fixture_gradients(*model, f.data);
}

// The KV cache fed `chunk` positions at a time: the logits of every position are torch's.
void check_cached_path(const Fixture& f, int64_t chunk) {
  const std::unique_ptr<GPT> model = model_of(f);
  model->eval();
  const int64_t T = f.config.seq_len, V = f.config.vocab, B = f.batch;
  KVCache cache = model->make_cache(B);
  std::vector<float> logits(static_cast<size_t>(B * T * V));
  for (int64_t start = 0; start < T; start += chunk) {
    const int64_t n = std::min(chunk, T - start);
    std::vector<int64_t> ids;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = start; t < start + n; ++t) ids.push_back(f.ids[b * T + t]);
    const std::vector<float> part = model->forward_incremental(ids, B, cache).to_vector();
    for (int64_t b = 0; b < B; ++b)
      std::copy_n(part.begin() + b * n * V, n * V, logits.begin() + (b * T + start) * V);
  }
  check_close(logits, f.data.at("logits"), "cached logits");
}

}  // namespace

TEST_CASE("GPT matches PyTorch on every fixture and path: logits, loss, every gradient") {
  struct Path {
    std::string what;
    std::function<void(const Fixture&)> check;
  };
  const std::vector<Path> paths = {
      {"fused attention", [](const Fixture& f) { check_training_path(f, false); }},
      {"unfused attention (maps captured)", [](const Fixture& f) { check_training_path(f, true); }},
      {"KV cache, one token at a time", [](const Fixture& f) { check_cached_path(f, 1); }},
      {"KV cache, chunks of 7", [](const Fixture& f) { check_cached_path(f, 7); }},
  };
  for (const std::string& name : kFixtures) {
    CAPTURE(name);
    const Fixture f = load(name);
    for (const Path& path : paths) {
      CAPTURE(path.what);
      path.check(f);
    }
  }
}
