// The vit and mt trainers through the task-generic interface (make_trainer, resume_trainer,
// run_training) on tiny generated data: a resumed run continues bit for bit, the loop logs each
// evaluation with the task's metric, test() scores the test split, and bad options are refused.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/error.hpp"
#include "engine/thread_count.hpp"
#include "nn/tasks/trainer.hpp"
#include "nn/tasks/training_loop.hpp"
#include "scratch_dir.hpp"
#include "tiny_task_data.hpp"

using namespace mmx;

namespace {
struct TaskCase {
  std::string task;
  std::string metric;              // the evaluation's task metric
  std::vector<std::string> tests;  // what test() reports
  size_t attention_layers;         // S/M entries per evaluation
};

// Tiny models on the generated data; dropout on, so the dropout stream crosses the checkpoint.
nlohmann::json tiny_options(const TaskCase& c, const ScratchDir& dir, nn::AttentionKind kind) {
  nlohmann::json o;
  if (c.task == "vit") {
    write_tiny_image_set(dir / "images");
    o = {{"model",
          {{"patch_size", 4}, {"d_model", 16}, {"layers", 2}, {"heads", 2}, {"dropout", 0.1}}},
         {"batch", 16},
         {"val_images", 40},
         {"data", (dir / "images").string()}};
  } else {
    o = {{"model",
          {{"d_model", 16},
           {"heads", 2},
           {"encoder_layers", 1},
           {"decoder_layers", 1},
           {"dropout", 0.1}}},
         {"batch", 8},
         {"eval_pairs", 8},
         {"max_chars", 24},
         {"data", write_tiny_phrase_file(dir / "phrases.txt").string()}};
  }
  o["steps"] = 12;
  o["warmup"] = 2;
  o["eval_interval"] = 4;
  o["seed"] = 5;
  nn::set_attention(c.task, o, kind);
  return o;
}

const std::vector<TaskCase> kCases = {
    {"vit", "accuracy", {"accuracy"}, 2},
    {"mt",
     "chrF",
     {"chrF", "exact_match", "chrF_beam2", "exact_match_beam2"},
     3},  // enc, dec, cross
};
}  // namespace

TEST_CASE("vit and mt: one seed starts SoftMax and MultiMax (+logits) from the same weights") {
  // What `mmx compare`'s pairing by seed rests on: every weight the arms share starts equal.
  // (The data order comes from the seed alone: the batch streams are seeded seed ^ constant.)
  for (const TaskCase& c : kCases) {
    CAPTURE(c.task);
    ScratchDir dir("task-pairing");
    nlohmann::json multimax = tiny_options(c, dir, nn::AttentionKind::MultiMax);
    multimax["model"]["multimax_logits"] = true;
    const nn::NamedTensors softmax_weights =
        nn::make_trainer(c.task, tiny_options(c, dir, nn::AttentionKind::Softmax))
            ->model()
            .named_parameters();
    const nn::NamedTensors multimax_weights =
        nn::make_trainer(c.task, multimax)->model().named_parameters();
    CHECK(multimax_weights.size() > softmax_weights.size());  // the (t, r) pairs
    size_t shared = 0;
    for (const auto& [name, w] : softmax_weights)
      for (const auto& [other_name, other] : multimax_weights)
        if (name == other_name) {
          CHECK_MESSAGE(w.to_vector() == other.to_vector(), name);
          ++shared;
        }
    CHECK(shared == softmax_weights.size());
  }
}

TEST_CASE("vit and mt: a resumed run reproduces the uninterrupted losses bit for bit") {
  // mt's evaluate() decodes at the thread count AdaptiveThreads picks from the load and leaves
  // OpenMP at it, and LayerNorm's gradients change in their last bits with the count: compared
  // bit for bit, all runs need one.
  const FixedThreadCount fixed(max_thread_count());
  for (const TaskCase& c : kCases)
    for (nn::AttentionKind kind : {nn::AttentionKind::Softmax, nn::AttentionKind::MultiMax}) {
      CAPTURE(c.task);
      CAPTURE(nn::attention_kind_name(kind));
      ScratchDir dir("task-resume");
      const nlohmann::json options = tiny_options(c, dir, kind);

      std::unique_ptr<nn::Trainer> straight = nn::make_trainer(c.task, options);
      std::vector<float> expected;
      for (int i = 0; i < 10; ++i) {
        expected.push_back(straight->train_step());
        if (i == 4) straight->evaluate();  // must not disturb the training streams
      }
      std::vector<float> got;
      {
        std::unique_ptr<nn::Trainer> first = nn::make_trainer(c.task, options);
        for (int i = 0; i < 5; ++i) got.push_back(first->train_step());
        first->evaluate();
        first->save(dir / "ckpt");
      }
      std::unique_ptr<nn::Trainer> resumed = nn::resume_trainer(dir / "ckpt");
      CHECK(std::string(resumed->task()) == c.task);
      CHECK(resumed->step() == 5);
      CHECK(resumed->options_json() == straight->options_json());
      for (int i = 0; i < 5; ++i) got.push_back(resumed->train_step());
      REQUIRE(got.size() == expected.size());
      for (size_t i = 0; i < got.size(); ++i) {
        CAPTURE(i);
        CHECK(got[i] == expected[i]);  // exact: same seed, same threads
      }
    }
}

TEST_CASE("vit and mt: the loop logs the task metric, stops and resumes to the same log") {
  // run_training picks the thread count from the load: compared bit for bit, both runs need one.
  const FixedThreadCount fixed(max_thread_count());
  for (const TaskCase& c : kCases) {
    CAPTURE(c.task);
    ScratchDir dir("task-loop");
    const nlohmann::json options = tiny_options(c, dir, nn::AttentionKind::MultiMax);
    {
      std::unique_ptr<nn::Trainer> straight = nn::make_trainer(c.task, options);
      CHECK(nn::run_training(*straight, dir / "straight", {}) == nn::TrainingEnd::finished);
    }
    const std::vector<nlohmann::json> expected =
        nn::read_training_log(dir / "straight" / "log.jsonl");
    REQUIRE(expected.size() == 3);  // steps 4, 8, 12
    for (const nlohmann::json& line : expected) {
      const nn::EvalRecord r = nn::EvalRecord::from_json(line);
      REQUIRE(r.metric.has_value());
      CHECK(r.metric->name == c.metric);
      CHECK(r.metric->value >= 0.0);
      CHECK(r.metric->value <= 100.0);
      CHECK(std::isfinite(r.val_loss));
      CHECK(r.attention_layers.size() == c.attention_layers);
      CHECK(r.sparsity.size() == c.attention_layers);
      CHECK(r.items_per_s > 0);
    }
    {
      std::unique_ptr<nn::Trainer> first = nn::make_trainer(c.task, options);
      nn::TrainingHooks hooks;
      hooks.stop_requested = [&] { return first->step() == 6; };
      CHECK(nn::run_training(*first, dir / "split", hooks) == nn::TrainingEnd::interrupted);
    }
    std::unique_ptr<nn::Trainer> resumed = nn::resume_trainer(dir / "split");
    CHECK(resumed->step() == 6);
    CHECK(nn::run_training(*resumed, dir / "split", {}) == nn::TrainingEnd::finished);
    const std::vector<nlohmann::json> got = nn::read_training_log(dir / "split" / "log.jsonl");
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].at("train_loss") == expected[i].at("train_loss"));
      CHECK(got[i].at("val_loss") == expected[i].at("val_loss"));
      CHECK(got[i].at("metric") == expected[i].at("metric"));
    }

    const std::vector<nn::TaskMetric> scores = resumed->test({.beam = 2, .limit = 10});
    REQUIRE(scores.size() == c.tests.size());
    for (size_t i = 0; i < scores.size(); ++i) {
      CHECK(scores[i].name == c.tests[i]);
      CHECK(scores[i].value >= 0.0);
      CHECK(scores[i].value <= 100.0);
    }
  }
}

TEST_CASE("the vit learns the generated images well above chance") {
  ScratchDir dir("vit-learns");
  nlohmann::json options = tiny_options(kCases[0], dir, nn::AttentionKind::Softmax);
  options["steps"] = 150;
  options["warmup"] = 10;
  options["lr"] = 3e-3;
  options["model"]["dropout"] = 0.0;
  std::unique_ptr<nn::Trainer> t = nn::make_trainer("vit", options);
  for (int i = 0; i < 150; ++i) t->train_step();
  const double accuracy = t->test({})[0].value;
  CHECK(accuracy > 50.0);  // chance is 10%
}

TEST_CASE("make_trainer and resume_trainer refuse bad input with a clear error") {
  ScratchDir dir("task-bad");
  CHECK_THROWS_WITH_AS(nn::make_trainer("speech", {}), doctest::Contains("unknown task 'speech'"),
                       Error);
  CHECK_THROWS_WITH_AS(nn::make_trainer("vit", {{"epochs", 3}}),
                       doctest::Contains("unknown field 'epochs'"), Error);
  CHECK_THROWS_WITH_AS(nn::make_trainer("mt", {{"model", {{"d_modle", 3}}}}),
                       doctest::Contains("d_modle"), Error);
  nlohmann::json vit = tiny_options(kCases[0], dir, nn::AttentionKind::Softmax);
  vit["model"]["patch_size"] = 3;  // does not divide 8
  CHECK_THROWS_AS(nn::make_trainer("vit", vit), Error);
  vit = tiny_options(kCases[0], dir, nn::AttentionKind::Softmax);
  vit["val_images"] = 1000;  // more than the 240 training images
  CHECK_THROWS_WITH_AS(nn::make_trainer("vit", vit), doctest::Contains("`val_images`"), Error);
  nlohmann::json mt = tiny_options(kCases[1], dir, nn::AttentionKind::Softmax);
  mt["warmup"] = 12;
  CHECK_THROWS_WITH_AS(nn::make_trainer("mt", mt), doctest::Contains("`warmup`"), Error);
  mt = tiny_options(kCases[1], dir, nn::AttentionKind::Softmax);
  mt["data"] = (dir / "missing.txt").string();
  CHECK_THROWS_WITH_AS(nn::make_trainer("mt", mt), doctest::Contains("missing.txt"), Error);
  CHECK_THROWS_AS(nn::resume_trainer(dir / "nothing-here"), Error);
}
