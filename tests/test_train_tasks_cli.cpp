// `mmx train --task vit|mt`, `mmx eval` and `mmx translate` as a user runs them, on tiny
// generated data: train, evaluate, translate, resume; and bad input (unknown task, a flag of
// another task, missing or wrong-task checkpoints) gives one line and a non-zero exit.
#include <doctest/doctest.h>

#include <algorithm>

#include "mmx_cli.hpp"
#include "nn/data/checkpoint.hpp"
#include "nn/tasks/trainer.hpp"
#include "nn/tasks/training_loop.hpp"
#include "scratch_dir.hpp"
#include "tiny_task_data.hpp"

namespace {
const std::string kSmallRun =
    " --steps 8 --eval-interval 4 --warmup 1 --threads 1 --d-model 16"
    " --heads 2 --layers 1";

std::string vit_run(const ScratchDir& dir, const std::string& out) {
  write_tiny_image_set(dir / "images");
  return "train --task vit --data " + (dir / "images").string() +
         " --patch 4 --batch 16 --eval-batch 40 --out " + (dir / out).string() + kSmallRun;
}

std::string mt_run(const ScratchDir& dir, const std::string& out) {
  return "train --task mt --data " + write_tiny_phrase_file(dir / "phrases.txt").string() +
         " --batch 8 --eval-batch 8 --max-chars 24 --enc-attn multimax --out " +
         (dir / out).string() + kSmallRun;
}

int64_t lines(const std::string& text) {
  return std::count(text.begin(), text.end(), '\n');
}
}  // namespace

TEST_CASE("vit: train, eval and resume from the command line") {
  ScratchDir dir("vit-cli");
  REQUIRE(run_mmx(vit_run(dir, "run")).exit_code == 0);
  const std::vector<nlohmann::json> log = mmx::nn::read_training_log(dir / "run" / "log.jsonl");
  REQUIRE(log.size() == 2);
  CHECK(log.back().at("metric").at("name") == "accuracy");
  CHECK(std::filesystem::exists(dir / "run" / "loss.png"));

  const CliResult eval = run_mmx("eval --ckpt " + (dir / "run").string(), false);
  CHECK(eval.exit_code == 0);
  CHECK(eval.output.find("test accuracy: ") != std::string::npos);

  CHECK(run_mmx("train --resume " + (dir / "run").string()).exit_code == 0);  // already done
  CHECK(mmx::nn::read_training_log(dir / "run" / "log.jsonl").size() == 2);
  // The command that made the run, again with --resume: every value equals the run's.
  CHECK(run_mmx(vit_run(dir, "run") + " --resume " + (dir / "run").string()).exit_code == 0);
}

TEST_CASE("vit: --steps below the default warmup runs, with the warmup's share of the run") {
  ScratchDir dir("vit-cli-short");
  write_tiny_image_set(dir / "images");
  const std::string out = (dir / "short").string();
  REQUIRE(run_mmx("train --task vit --data " + (dir / "images").string() +
                  " --patch 4 --batch 16 --eval-batch 40 --steps 60 --eval-interval 30 --threads 1"
                  " --d-model 16 --heads 2 --layers 1 --out " +
                  out)
              .exit_code == 0);
  const mmx::nn::SavedRun saved = mmx::nn::read_saved_run(out);
  CHECK(saved.step == 60);
  CHECK(saved.options.at("warmup") == 100 * 60 / 2150);  // vit's default: 100 of 2150 steps
}

TEST_CASE("mt: per-side attention flags, train, eval with beam, translate") {
  ScratchDir dir("mt-cli");
  REQUIRE(run_mmx(mt_run(dir, "run")).exit_code == 0);
  const std::vector<nlohmann::json> log = mmx::nn::read_training_log(dir / "run" / "log.jsonl");
  REQUIRE(log.size() == 2);
  CHECK(log.back().at("metric").at("name") == "chrF");

  const CliResult eval =
      run_mmx("eval --ckpt " + (dir / "run").string() + " --beam 2 --limit 5", false);
  CHECK(eval.exit_code == 0);
  CHECK(eval.output.find("checkpoint " + (dir / "run").string() +
                         ": mt, step 8, enc-multimax_dec-softmax_cross-softmax attention") !=
        std::string::npos);
  for (const char* metric :
       {"test chrF: ", "test exact_match: ", "test chrF_beam2: ", "test exact_match_beam2: "})
    CHECK(eval.output.find(metric) != std::string::npos);

  // Resumed with its own flags: mt's --attn writes all three sides and --enc-attn overrides one,
  // so only the encoder's differs from what --attn alone would give; both equal the run's.
  CHECK(run_mmx(mt_run(dir, "run") + " --resume " + (dir / "run").string()).exit_code == 0);
  const CliResult other =
      run_mmx(mt_run(dir, "run") + " --dec-attn multimax --resume " + (dir / "run").string());
  CHECK(other.exit_code != 0);
  CHECK(other.output.find("--dec-attn multimax differs from the resumed run's softmax") !=
        std::string::npos);

  for (const char* beam : {"", " --beam 3"}) {
    CAPTURE(beam);
    const CliResult t = run_mmx(
        "translate --ckpt " + (dir / "run").string() + beam + " 'ein kleines Haus' Baum", false);
    CHECK(t.exit_code == 0);
    CHECK(lines(t.output) == 2);  // one translation per text
  }
}

TEST_CASE("--multimax-logits in every task: train, save, resume and extend, use") {
  ScratchDir dir("logits-cli");
  struct Case {
    std::string task;
    std::string run;  // the training command, without --out
    std::string use;  // a command on the finished checkpoint, run after its path
  };
  const std::vector<Case> cases = {
      {"vit", vit_run(dir, "vit") + " --multimax-logits", "eval --ckpt "},
      {"mt", mt_run(dir, "mt") + " --multimax-logits", "translate --ckpt "},
  };
  for (const Case& c : cases) {
    CAPTURE(c.task);
    const std::string out = (dir / c.task).string();
    const CliResult train = run_mmx(c.run);
    REQUIRE(train.exit_code == 0);
    CHECK(train.output.find("MultiMax output logits") != std::string::npos);
    CHECK(mmx::nn::read_saved_run(out).options.at("model").at("multimax_logits") == true);
    // Resumed and extended: the saved output-logit (t, r) load into the rebuilt model.
    const CliResult more = run_mmx("train --resume " + out + " --steps 12");
    CHECK(more.exit_code == 0);
    CHECK(mmx::nn::read_saved_run(out).step == 12);
    const std::string texts = c.task == "mt" ? " 'ein kleines Haus' Baum" : "";
    const CliResult use = run_mmx(c.use + out + texts, false);
    CHECK(use.exit_code == 0);
  }
}

TEST_CASE("mt: a checkpoint written before multimax_logits existed resumes and translates") {
  ScratchDir dir("mt-cli-old");
  REQUIRE(run_mmx(mt_run(dir, "old")).exit_code == 0);
  const std::filesystem::path old = dir / "old";
  {  // what an mt run saved before the field: neither its config nor its options have it
    mmx::data::Checkpoint c = mmx::data::load_checkpoint(old);
    REQUIRE(c.model_metadata.at("config").erase("multimax_logits") == 1);
    REQUIRE(c.model_metadata.at("train_options").at("model").erase("multimax_logits") == 1);
    mmx::data::save_checkpoint(old, c);
  }
  struct Case {
    std::string arguments;
    std::string expected;  // in the output; "" for a clean run
  };
  const std::vector<Case> cases = {
      {"translate --ckpt " + old.string() + " 'ein kleines Haus'", ""},
      {"train --resume " + old.string() + " --multimax-logits",
       "--multimax-logits true differs from the resumed run's false"},
      {"train --resume " + old.string() + " --steps 12", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.arguments);
    const CliResult r = run_mmx(c.arguments);
    CHECK((r.exit_code == 0) == c.expected.empty());
    CHECK(r.output.find(c.expected) != std::string::npos);
  }
  CHECK(mmx::nn::read_saved_run(old).step == 12);
}

TEST_CASE("bad input: one line that says what is wrong, non-zero exit") {
  ScratchDir dir("tasks-cli-bad");
  REQUIRE(run_mmx(vit_run(dir, "vit")).exit_code == 0);
  const std::string vit = (dir / "vit").string();
  const std::string phrases = write_tiny_phrase_file(dir / "phrases.txt").string();
  REQUIRE(run_mmx(mt_run(dir, "mt")).exit_code == 0);
  const std::string mt = (dir / "mt").string();
  struct Case {
    std::string arguments;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"train --task speech", "speech"},
      {"train --task vit --seq 16", "--seq does not apply to --task vit"},
      {"train --patch 4", "--patch does not apply to --task lm"},
      {"train --resume " + mt + " --multimax-logits",
       "--multimax-logits true differs from the resumed run's false"},
      {"train --task vit --data " + (dir / "nowhere").string(), "nowhere"},
      {"train --task mt --data " + phrases + " --max-chars 24 --enc-attn maxsoft", "maxsoft"},
      {"train --resume " + vit + " --task mt", "--task mt differs from the resumed run's vit"},
      {"eval --ckpt " + (dir / "missing").string(), "missing"},
      {"eval --ckpt " + dir.path.string(), "checkpoint"},
      {"eval --ckpt " + vit + " --beam 2", "--beam applies to mt"},
      {"translate --ckpt " + vit + " Haus", "not a translator"},
      {"translate --ckpt " + mt + " 'ein Haus in Tokio #'", "#"},
      {"translate --ckpt " + mt, "texts"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.arguments);
    const CliResult r = run_mmx(c.arguments);
    CHECK(r.exit_code != 0);
    CHECK(r.output.find(c.expected) != std::string::npos);
    CHECK(lines(r.output) <= 2);  // the error, and CLI11's "Run with --help" hint at most
    CHECK(r.output.find("Aborted") == std::string::npos);
  }
}
