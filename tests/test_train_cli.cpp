// `mmx train` as a user runs it: Ctrl-C (SIGINT) saves a checkpoint and exits 0, `--resume`
// finishes the run, and bad flags or files get a one-line error and a non-zero exit.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "mmx_cli.hpp"
#include "nn/lm_trainer.hpp"
#include "nn/training_loop.hpp"
#include "scratch_dir.hpp"
#include "tiny_task_data.hpp"

namespace {
std::filesystem::path write_corpus(const ScratchDir& dir) {
  return write_word_corpus(dir / "corpus.txt", 3,
                           {"one ", "two ", "three\n", "four, ", "five. "}, 4000);
}

// A tiny model, so steps take milliseconds.
std::vector<std::string> tiny_run(const std::filesystem::path& corpus, const std::filesystem::path& out,
                                  int steps) {
  return {MMX_CLI_PATH, "train", "--data", corpus.string(), "--out", out.string(),
          "--d-model", "16", "--layers", "1", "--heads", "2", "--seq", "16", "--batch", "4",
          "--warmup", "1", "--eval-interval", "10", "--eval-batch", "4", "--threads", "1",
          "--steps", std::to_string(steps), "--attn", "multimax"};
}

}  // namespace

TEST_CASE("SIGINT saves a checkpoint and exits 0; --resume finishes the run") {
  ScratchDir dir("train-cli");
  const std::filesystem::path corpus = write_corpus(dir);
  const std::filesystem::path out = dir / "run";
  const pid_t pid = spawn_quiet(tiny_run(corpus, out, 1000000));
  // Wait for the first evaluation's checkpoint, then interrupt as Ctrl-C would.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!std::filesystem::exists(out / "checkpoint.json") &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(std::filesystem::exists(out / "checkpoint.json"));
  REQUIRE(kill(pid, SIGINT) == 0);
  CHECK(wait_for(pid) == 0);

  const std::unique_ptr<mmx::nn::LMTrainer> saved = mmx::nn::LMTrainer::resume(out);
  CHECK(saved->step() >= 10);
  CHECK(saved->options().steps == 1000000);

  // A fresh short run, resumed to its end: the log has every evaluation once.
  const std::filesystem::path short_out = dir / "short";
  std::vector<std::string> args = tiny_run(corpus, short_out, 30);
  std::string command;
  for (size_t i = 1; i < args.size(); ++i) command += " " + args[i];
  REQUIRE(run_mmx(command).exit_code == 0);
  CHECK(run_mmx("train --resume " + short_out.string()).exit_code == 0);  // already done
  const std::vector<nlohmann::json> log = mmx::nn::read_training_log(short_out / "log.jsonl");
  REQUIRE(log.size() == 3);
  CHECK(log.back().at("step") == 30);
  CHECK(std::filesystem::exists(short_out / "loss.png"));
}

TEST_CASE("bad input: one line that says what to do, non-zero exit") {
  ScratchDir dir("train-cli-bad");
  const std::filesystem::path corpus = write_corpus(dir);
  struct Case {
    std::string arguments;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"train --data " + (dir / "missing.txt").string(), "does not exist"},
      {"train --data " + corpus.string() + " --heads 3 --d-model 16", "heads"},
      {"train --data " + corpus.string() + " --attn maxsoft", "maxsoft"},
      {"train --data " + corpus.string() + " --steps 10 --warmup 10", "--warmup"},
      {"train --data " + corpus.string() + " --lr -1", "--lr"},
      {"train --data " + corpus.string() + " --seq 100000", "--seq"},
      {"train --resume " + dir.path.string(), "checkpoint"},
      {"train --resume " + dir.path.string() + " --layers 3", "--layers"},
      {"train --bogus", "bogus"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.arguments);
    const CliResult r = run_mmx(c.arguments);
    CHECK(r.exit_code != 0);
    CHECK(r.output.find(c.expected) != std::string::npos);
    CHECK(r.output.find("Aborted") == std::string::npos);
  }
}
