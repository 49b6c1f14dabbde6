// Numerical robustness at the edges: MultiMax with its parameters pushed to extremes (|t| = 10,
// breakpoints far beyond the data), logits of 1e4 and fully masked rows give finite outputs and
// gradients, op by op and through a whole GPT; a run whose parameters go bad stops with the step
// and the parameter, keeping the last good checkpoint. (test_normalizers.cpp covers the
// normalizers' own masked / huge / tied rows at default parameters.)
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/normalizers.hpp"
#include "engine/ops.hpp"
#include "nn/data/checkpoint.hpp"
#include "nn/models/gpt.hpp"
#include "nn/tasks/lm/lm_trainer.hpp"
#include "nn/tasks/training_loop.hpp"
#include "scratch_dir.hpp"

using namespace mmx;

namespace {

bool all_finite(const Tensor& t) {
  for (float v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

// Scores with a fully masked row (0), a row of +-1e4 (1), ties and spread values (2, 3).
Tensor extreme_scores() {
  return Tensor::from_data({0.5f, -1, 2, 3, 1e4f, -1e4f, 1e4f, 0, 1, 1, 1, 1, -50, 50, 0.25f, 7},
                           {4, 4});
}
Tensor mask_first_row() {
  return Tensor::from_data(
      {-INFINITY, -INFINITY, -INFINITY, -INFINITY, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -INFINITY},
      {4, 4});
}

}  // namespace

TEST_CASE("multimax with extreme parameters: finite outputs and gradients") {
  struct Row {
    const char* name;
    std::vector<float> t, r;
    int order;
  };
  const std::vector<Row> rows = {
      {"t = +10", {10, 10, 10, 10}, {0, 0, 0, 0}, 2},
      {"t = -10", {-10, -10, -10, -10}, {0, 0, 0, 0}, 2},
      {"mixed signs", {10, -10, -10, 10}, {1, -1, 2, -2}, 2},
      {"breakpoints beyond the data", {10, 10, 10, 10}, {1e5f, -1e5f, 1e5f, -1e5f}, 2},
      {"breakpoints the other side", {-10, 10, -10, 10}, {-1e5f, 1e5f, -1e5f, 1e5f}, 2},
      {"order 1, t = -10", {-10, -10, 0, 0}, {-1e4f, 1e4f, 0, 0}, 1},
      {"order 1, t = +10", {10, 10, 0, 0}, {3, -3, 0, 0}, 1},
  };
  for (const Row& row : rows) {
    CAPTURE(std::string(row.name));
    const Tensor x = extreme_scores().requires_grad_();
    MultiMaxParams params{Tensor::from_data(row.t, {4}).requires_grad_(),
                          Tensor::from_data(row.r, {4}).requires_grad_(), row.order};
    const Tensor p = multimax(x, params, mask_first_row());
    CHECK(all_finite(p));
    for (int64_t j = 0; j < 4; ++j) CHECK(p.at({0, j}) == 0.0f);  // the masked row
    for (int64_t i = 1; i < 4; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < 4; ++j) sum += p.at({i, j});
      CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
    }
    // A loss that weights columns differently, so no gradient cancels by symmetry.
    sum(mul(p, Tensor::from_data({1, -2, 3, 0.5f, 1, -2, 3, 0.5f, 1, -2, 3, 0.5f, 1, -2, 3, 0.5f},
                                 {4, 4})))
        .backward();
    CHECK(all_finite(x.grad()));
    CHECK(all_finite(params.t.grad()));
    CHECK(all_finite(params.r.grad()));
  }
}

TEST_CASE("a GPT with MultiMax pushed to extremes and logits of 1e4: finite loss and gradients") {
  nn::GPTConfig config;
  config.vocab = 11;
  config.d_model = 8;
  config.layers = 2;
  config.heads = 2;
  config.seq_len = 6;
  config.attention.kind = nn::AttentionKind::MultiMax;
  struct Row {
    const char* name;
    bool per_head, logits;
    float t, r, embedding_scale;
  };
  const std::vector<Row> rows = {
      {"t = 10, r beyond the data", false, false, 10, 1e4f, 1},
      {"t = -10, per head", true, false, -10, -3, 1},
      {"t = 10 on the output logits", false, true, 10, 0.5f, 1},
      {"embeddings x 1e3 (scores and logits ~1e4)", false, true, -10, 1e5f, 1e3f},
  };
  const std::vector<int64_t> ids = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1};
  const std::vector<int64_t> targets = {2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1, 2};
  for (const Row& row : rows) {
    CAPTURE(std::string(row.name));
    config.attention.multimax_per_head = row.per_head;
    config.multimax_logits = row.logits;
    nn::GPT model(config, 3);
    {
      NoGrad no_grad;
      for (auto& [name, p] : model.named_parameters()) {
        Tensor param = p;
        if (name.ends_with("multimax.t")) param.fill_(row.t);
        if (name.ends_with("multimax.r")) param.fill_(row.r);
        if (name.starts_with("tok."))
          param.copy_(mul(param, Tensor::full({1}, row.embedding_scale)));
      }
    }
    Tensor loss = model.loss(ids, targets, 2, 6);
    CHECK(std::isfinite(loss.item()));
    loss.backward();
    for (const auto& parameter : model.named_parameters()) {
      const std::string& name = parameter.first;  // clang cannot capture a structured binding
      CAPTURE(name);
      if (parameter.second.grad().defined()) CHECK(all_finite(parameter.second.grad()));
    }
  }
}

TEST_CASE(
    "a parameter gone bad mid-run: the error names the step and the parameter, the last checkpoint "
    "stays") {
  ScratchDir dir("numerics-run");
  const std::filesystem::path corpus = dir / "corpus.txt";
  {
    std::ofstream out(corpus);
    for (int i = 0; i < 400; ++i) out << "red green blue\n";
  }
  nn::TrainOptions options;
  options.model.d_model = 8;
  options.model.layers = 1;
  options.model.heads = 2;
  options.model.seq_len = 8;
  options.model.attention.kind = nn::AttentionKind::MultiMax;
  options.batch = 2;
  options.steps = 20;
  options.warmup = 1;
  options.eval_interval = 5;
  options.eval_batch = 2;
  options.data = corpus.string();
  struct Row {
    const char* parameter;  // poisoned after step 7
    float value;
    const char* expected;  // what the error says
  };
  const std::vector<Row> rows = {
      // The loss goes NaN: the error names the first non-finite parameter.
      {"head.weight", NAN, "the loss became nan at step 8 (parameter 'head.weight' holds nan)"},
      // MultiMax's t = inf keeps the loss finite but not the gradients: the first is named.
      {"blocks.0.attn.multimax.t", INFINITY, "the gradient of '"},
  };
  for (const Row& row : rows) {
    CAPTURE(std::string(row.parameter));
    nn::LMTrainer trainer(options);
    const std::filesystem::path out = dir / "run";
    nn::TrainingHooks hooks;
    hooks.on_step = [&](int64_t step, float) {
      if (step != 7) return;
      NoGrad no_grad;
      for (auto& [name, p] : trainer.model().named_parameters())
        if (name == row.parameter) Tensor(p).fill_(row.value);
    };
    std::string message;
    try {
      nn::run_training(trainer, out, hooks);
    } catch (const Error& e) {
      message = e.what();
    }
    CHECK_MESSAGE(message.find(row.expected) != std::string::npos, message);
    CHECK_MESSAGE(message.find("at step 8") != std::string::npos, message);
    CHECK_MESSAGE(message.find("checkpoint is kept") != std::string::npos, message);
    const data::Checkpoint kept = data::load_checkpoint(out);
    CHECK(kept.step == 5);
    for (const auto& tensor : kept.model) {
      const std::string& name = tensor.first;
      CAPTURE(name);
      CHECK(all_finite(tensor.second));
    }
    // The run continues from there.
    std::unique_ptr<nn::LMTrainer> resumed = nn::LMTrainer::resume(out);
    CHECK(resumed->step() == 5);
    CHECK(std::isfinite(resumed->train_step()));
    std::filesystem::remove_all(out);
  }
}
