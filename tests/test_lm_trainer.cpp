// LMTrainer and the training loop: a resumed run continues bit for bit, an interrupted loop
// saves a checkpoint it can resume from, a non-finite loss stops with the step and keeps the
// last checkpoint, the JSONL log has one record per evaluation, and a checkpoint whose tokenizer
// does not fit its embedding is refused.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/error.hpp"
#include "engine/thread_count.hpp"
#include "nn/data/char_tokenizer.hpp"
#include "nn/data/checkpoint.hpp"
#include "nn/optim/optim_options.hpp"
#include "nn/tasks/lm/lm_trainer.hpp"
#include "nn/tasks/training_loop.hpp"
#include "scratch_dir.hpp"
#include "tensor_compare.hpp"
#include "tiny_task_data.hpp"

using namespace mmx;

namespace {
// A small repetitive corpus with some variety, so the loss moves.
std::filesystem::path write_corpus(const ScratchDir& dir) {
  return write_word_corpus(dir / "corpus.txt", 11,
                           {"alpha ", "beta ", "gamma ", "delta\n", "eps ", "zeta, "}, 3000);
}

nn::TrainOptions small_options(const std::filesystem::path& corpus, nn::AttentionKind kind) {
  nn::TrainOptions o;
  o.model.d_model = 16;
  o.model.layers = 2;
  o.model.heads = 2;
  o.model.seq_len = 16;
  o.model.dropout = 0.1f;  // exercises the dropout stream across the checkpoint
  o.model.attention.kind = kind;
  o.batch = 4;
  o.steps = 12;
  o.warmup = 2;
  o.eval_interval = 4;
  o.eval_batch = 4;
  o.seed = 5;
  o.data = corpus.string();
  return o;
}
}  // namespace

TEST_CASE("a resumed run reproduces the uninterrupted loss curve bit for bit") {
  for (nn::AttentionKind kind : {nn::AttentionKind::Softmax, nn::AttentionKind::MultiMax}) {
    CAPTURE(nn::attention_kind_name(kind));
    ScratchDir dir("trainer-resume");
    const nn::TrainOptions options = small_options(write_corpus(dir), kind);

    nn::LMTrainer straight(options);
    std::vector<float> expected;
    for (int i = 0; i < 12; ++i) {
      expected.push_back(straight.train_step());
      if (i == 5) straight.evaluate();  // evaluation must not disturb the training streams
    }

    std::vector<float> got;
    {
      nn::LMTrainer first(options);
      for (int i = 0; i < 6; ++i) got.push_back(first.train_step());
      first.evaluate();
      first.save(dir / "ckpt");
    }
    std::unique_ptr<nn::LMTrainer> resumed = nn::LMTrainer::resume(dir / "ckpt");
    CHECK(resumed->step() == 6);
    for (int i = 0; i < 6; ++i) got.push_back(resumed->train_step());
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CAPTURE(i);
      CHECK(got[i] == expected[i]);  // exact: same seed, same threads
    }
  }
}

TEST_CASE("the loop logs each evaluation, saves on stop, and resumes to the same log") {
  // run_training picks the thread count from the load: compared bit for bit, both runs need one.
  const FixedThreadCount fixed(max_thread_count());
  ScratchDir dir("trainer-loop");
  const nn::TrainOptions options = small_options(write_corpus(dir), nn::AttentionKind::MultiMax);

  nn::LMTrainer straight(options);
  CHECK(nn::run_training(straight, dir / "straight", {}) == nn::TrainingEnd::finished);
  const std::vector<nlohmann::json> expected =
      nn::read_training_log(dir / "straight" / "log.jsonl");
  REQUIRE(expected.size() == 3);  // steps 4, 8, 12
  for (const nlohmann::json& r : expected) {
    CHECK(r.at("attention_sparsity").size() == 2);
    CHECK(r.at("attention_multimodality").size() == 2);
    CHECK(std::isfinite(r.at("val_loss").get<double>()));
  }

  // Stop after step 6 (between evaluations), as Ctrl-C would.
  {
    nn::LMTrainer first(options);
    nn::TrainingHooks hooks;
    hooks.stop_requested = [&] { return first.step() == 6; };
    CHECK(nn::run_training(first, dir / "split", hooks) == nn::TrainingEnd::interrupted);
  }
  std::unique_ptr<nn::LMTrainer> resumed = nn::LMTrainer::resume(dir / "split");
  CHECK(resumed->step() == 6);
  CHECK(nn::run_training(*resumed, dir / "split", {}) == nn::TrainingEnd::finished);
  const std::vector<nlohmann::json> got = nn::read_training_log(dir / "split" / "log.jsonl");
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].at("step") == expected[i].at("step"));
    CHECK(got[i].at("train_loss") == expected[i].at("train_loss"));
    CHECK(got[i].at("val_loss") == expected[i].at("val_loss"));
    CHECK(got[i].at("attention_sparsity") == expected[i].at("attention_sparsity"));
  }
}

TEST_CASE("an extended run goes on from the saved optimizer state and rate, and resumes exactly") {
  // run_training picks the thread count from the load: compared bit for bit, both runs need one.
  const FixedThreadCount fixed(max_thread_count());
  ScratchDir dir("trainer-extend");
  const nn::TrainOptions options = small_options(write_corpus(dir), nn::AttentionKind::MultiMax);
  {
    nn::LMTrainer first(options);
    for (int i = 0; i < 6; ++i) first.train_step();
    first.save(dir / "ckpt");
  }
  // Its next step is the one the unextended run takes: same moments, same rate at step 6.
  std::unique_ptr<nn::Trainer> plain = nn::resume_trainer(dir / "ckpt");
  std::unique_ptr<nn::Trainer> extended = nn::resume_trainer(dir / "ckpt", 40);
  CHECK(plain->total_steps() == 12);
  CHECK(extended->total_steps() == 40);
  CHECK(extended->train_step() == plain->train_step());
  const auto plain_weights = plain->model().state_dict(), weights = extended->model().state_dict();
  REQUIRE(weights.size() == plain_weights.size());
  for (size_t i = 0; i < weights.size(); ++i) {
    CAPTURE(weights[i].first);
    CHECK(max_abs_diff(weights[i].second, plain_weights[i].second) == 0);
  }
  CHECK(extended->train_step() == plain->train_step());  // the loss after that first update
  // From there the extended rate falls more slowly, to min_lr at step 40.
  const nn::WarmupCosineSchedule schedule =
      nn::OptimOptions(extended->options_json().get<nn::TrainOptions>()).schedule();
  CHECK(schedule.lr_at(6) == options.schedule().lr_at(6));
  CHECK(schedule.lr_at(11) > options.schedule().lr_at(11));
  CHECK(schedule.lr_at(40) == options.min_lr);

  // Extended, stopped at step 20 and resumed without a new length: the same losses to the end.
  std::unique_ptr<nn::Trainer> straight = nn::resume_trainer(dir / "ckpt", 40);
  for (int i = 0; i < 2; ++i) straight->train_step();
  std::vector<float> expected, got;
  while (straight->step() < 40) expected.push_back(straight->train_step());
  nn::TrainingHooks hooks;
  hooks.on_step = [&](int64_t, float loss) { got.push_back(loss); };
  hooks.stop_requested = [&] { return extended->step() == 20; };
  CHECK(nn::run_training(*extended, dir / "ext", hooks) == nn::TrainingEnd::interrupted);
  CHECK(got.size() == 12);  // steps 9..20
  std::unique_ptr<nn::Trainer> resumed = nn::resume_trainer(dir / "ext");
  CHECK(resumed->step() == 20);
  CHECK(resumed->total_steps() == 40);
  while (resumed->step() < 40) got.push_back(resumed->train_step());
  CHECK(got == expected);
  CHECK_THROWS_WITH_AS(nn::resume_trainer(dir / "ext", 30),
                       doctest::Contains("can only be extended"), Error);
}

TEST_CASE("a non-finite loss stops with the step and leaves the last checkpoint loadable") {
  ScratchDir dir("trainer-nan");
  nn::TrainOptions options = small_options(write_corpus(dir), nn::AttentionKind::Softmax);
  nn::LMTrainer trainer(options);
  trainer.train_step();
  trainer.save(dir / "ckpt");
  for (auto& [name, tensor] : trainer.model().state_dict())
    if (name == "head.weight") Tensor(tensor).fill_(NAN);
  CHECK_THROWS_WITH_AS(trainer.train_step(), doctest::Contains("at step 2"), Error);
  std::unique_ptr<nn::LMTrainer> resumed = nn::LMTrainer::resume(dir / "ckpt");
  CHECK(resumed->step() == 1);
  CHECK(std::isfinite(resumed->train_step()));
}

TEST_CASE("bad options are refused with the flag's name") {
  ScratchDir dir("trainer-bad");
  nn::TrainOptions options = small_options(write_corpus(dir), nn::AttentionKind::Softmax);
  options.warmup = options.steps;
  CHECK_THROWS_WITH_AS(nn::LMTrainer{options}, doctest::Contains("`warmup`"), Error);
  options = small_options(dir / "corpus.txt", nn::AttentionKind::Softmax);
  options.model.seq_len = 100000;  // longer than the validation split
  CHECK_THROWS_AS(nn::LMTrainer{options}.evaluate(), Error);
  options = small_options(dir / "missing.txt", nn::AttentionKind::Softmax);
  CHECK_THROWS_AS(nn::LMTrainer{options}, Error);
}

TEST_CASE("a tokenizer of another size than the embedding and head is refused at load") {
  ScratchDir dir("trainer-vocab");
  const nn::TrainOptions options = small_options(write_corpus(dir), nn::AttentionKind::Softmax);
  nn::LMTrainer(options).save(dir / "ckpt");
  const data::Checkpoint saved = data::load_checkpoint(dir / "ckpt");
  const std::vector<char32_t> symbols =
      data::CharTokenizer::from_json(saved.model_metadata.at("vocab")).vocab();
  // One symbol more than the model's rows, and 1,000,000 (the cases): written as a new
  // checkpoint, so its hashes are right and only the sizes disagree.
  for (const int64_t size : {static_cast<int64_t>(symbols.size()) + 1, int64_t{1'000'000}}) {
    CAPTURE(size);
    std::vector<char32_t> vocab = symbols;
    for (char32_t c = 0x4E00; std::ssize(vocab) < size; ++c)
      if (c < 0xD800 || c > 0xDFFF) vocab.push_back(c);
    data::Checkpoint edited = saved;
    edited.model_metadata["vocab"] = data::CharTokenizer(vocab).to_json();
    data::save_checkpoint(dir / "edited", edited);
    const std::string message =
        cat("its tokenizer has ", size, " ids but the model's 'tok.weight' has ", symbols.size(),
            " rows");
    CHECK_THROWS_WITH_AS(nn::load_model(dir / "edited"), doctest::Contains(message.c_str()), Error);
    CHECK_THROWS_WITH_AS(nn::LMTrainer::resume(dir / "edited"), doctest::Contains(message.c_str()),
                         Error);
  }
}
