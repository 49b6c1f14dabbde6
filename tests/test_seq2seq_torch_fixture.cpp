// The C++ encoder-decoder against PyTorch: tests/make_torch_seq2seq_fixture.py builds the same
// translator on a padded batch (sources of 20, 17 and 9 characters, targets of 19, 12 and 18
// positions), and this test loads its weights by name and matches logits, loss (padded targets
// ignored) and every parameter gradient, teacher-forced with and without the attention maps
// captured, and the logits of both cached decoders fed one token at a time: the batched
// Seq2Seq::decode_step and the one-row Seq2SeqDecoder.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/models/seq2seq.hpp"
#include "nn/models/seq2seq_decoder.hpp"
#include "torch_fixture.hpp"

using namespace mmx;
using namespace mmx::nn;
using nlohmann::json;

namespace {

// MultiMax in all three attentions with logit MultiMax (order 2, per layer); MultiMax in the
// self-attentions only, the official recipe's placement (order 1, per head, plain logits).
const std::vector<std::string> kFixtures = {"multimax_everywhere_logits",
                                            "order1_per_head_self_only"};

struct Fixture {
  json data;
  Seq2SeqConfig config;
  int64_t batch, source_len, target_len;
  std::vector<int64_t> source, target_in, target_out;
};

Fixture load(const std::string& name) {
  Fixture f{read_torch_fixture("seq2seq_fixture_" + name), {}, 0, 0, 0, {}, {}, {}};
  f.config = f.data.at("config").get<Seq2SeqConfig>();
  f.batch = f.data.at("batch").get<int64_t>();
  f.source_len = f.data.at("source_len").get<int64_t>();
  f.target_len = f.data.at("target_len").get<int64_t>();
  f.source = f.data.at("source").get<std::vector<int64_t>>();
  f.target_in = f.data.at("target_in").get<std::vector<int64_t>>();
  f.target_out = f.data.at("target_out").get<std::vector<int64_t>>();
  return f;
}

std::unique_ptr<Seq2Seq> model_of(const Fixture& f) {
  auto model = std::make_unique<Seq2Seq>(f.config, /*seed=*/123);
  load_fixture_weights(*model, f.data);
  return model;
}

// Teacher-forced forward, loss and backward; with `capture`, every attention map kept.
void check_training_path(const Fixture& f, bool capture) {
  const std::unique_ptr<Seq2Seq> model = model_of(f);
  Seq2SeqAttentionMaps maps;
  const Tensor logits = model->forward(f.source, f.source_len, f.target_in, f.target_len, f.batch,
                                       capture ? &maps : nullptr);
  check_close(logits.contiguous().to_vector(), f.data.at("logits"), "logits");
  model->zero_grad();
  Tensor loss = model->loss(f.source, f.source_len, f.target_in, f.target_out, f.target_len,
                            f.batch, capture ? &maps : nullptr);
  if (capture) CHECK(maps.cross.size() == static_cast<size_t>(f.config.decoder_layers));
  CHECK(loss.item() == doctest::Approx(f.data.at("loss").get<double>()).epsilon(1e-5));
  loss.backward();
  check_fixture_gradients(*model, f.data);
}

// The cached decoder, one target token per row and step: every position's logits are torch's.
void check_cached_path(const Fixture& f) {
  const std::unique_ptr<Seq2Seq> model = model_of(f);
  model->eval();
  const int64_t B = f.batch, T = f.target_len, V = f.config.vocab;
  DecoderState state = model->start_decoding(f.source, B, f.source_len);
  std::vector<float> logits(static_cast<size_t>(B * T * V));
  for (int64_t t = 0; t < T; ++t) {
    std::vector<int64_t> tokens;
    for (int64_t b = 0; b < B; ++b) tokens.push_back(f.target_in[b * T + t]);
    const std::vector<float> step = model->decode_step(tokens, state).to_vector();
    for (int64_t b = 0; b < B; ++b)
      std::copy_n(step.begin() + b * V, V, logits.begin() + (b * T + t) * V);
  }
  check_close(logits, f.data.at("logits"), "cached logits");
}

// The one-row decoder (Seq2SeqDecoder), likewise.
void check_row_path(const Fixture& f) {
  const std::unique_ptr<Seq2Seq> model = model_of(f);
  model->eval();
  REQUIRE(Seq2SeqDecoder::supports(f.config));
  const int64_t B = f.batch, T = f.target_len, V = f.config.vocab;
  Seq2SeqDecoder decoder(*model);
  decoder.start(f.source, B, f.source_len);
  std::vector<float> logits(static_cast<size_t>(B * T * V));
  for (int64_t t = 0; t < T; ++t) {
    std::vector<int64_t> tokens;
    for (int64_t b = 0; b < B; ++b) tokens.push_back(f.target_in[b * T + t]);
    const std::vector<float> step = decoder.step(tokens).to_vector();
    for (int64_t b = 0; b < B; ++b)
      std::copy_n(step.begin() + b * V, V, logits.begin() + (b * T + t) * V);
  }
  check_close(logits, f.data.at("logits"), "one-row decoder logits");
}

}  // namespace

TEST_CASE("Seq2Seq matches PyTorch on padded batches: logits, loss, every gradient, cached") {
  struct Path {
    std::string what;
    std::function<void(const Fixture&)> check;
  };
  const std::vector<Path> paths = {
      {"teacher-forced", [](const Fixture& f) { check_training_path(f, false); }},
      {"teacher-forced, maps captured", [](const Fixture& f) { check_training_path(f, true); }},
      {"cached decoder, one token at a time", check_cached_path},
      {"one-row decoder, one token at a time", check_row_path},
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
