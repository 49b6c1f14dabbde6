// `mmx train` as a user runs it: Ctrl-C (SIGINT) saves a checkpoint and exits 0, `--resume`
// finishes the run, and bad flags or files get a one-line error and a non-zero exit.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "mmx_cli.hpp"
#include "nn/tasks/lm/lm_trainer.hpp"
#include "nn/tasks/trainer.hpp"
#include "nn/tasks/training_loop.hpp"
#include "scratch_dir.hpp"
#include "tiny_task_data.hpp"

namespace {
std::filesystem::path write_corpus(const ScratchDir& dir) {
  return write_word_corpus(dir / "corpus.txt", 3, {"one ", "two ", "three\n", "four, ", "five. "},
                           4000);
}

// A tiny run evaluating every 10 steps (arguments after the binary).
std::vector<std::string> tiny_run(const std::filesystem::path& corpus,
                                  const std::filesystem::path& out, int steps) {
  return tiny_train_args(corpus, out, steps, 10);
}

}  // namespace

TEST_CASE("SIGINT saves a checkpoint and exits 0; --resume finishes the run") {
  ScratchDir dir("train-cli");
  const std::filesystem::path corpus = write_corpus(dir);
  const std::filesystem::path out = dir / "run";
  const pid_t pid = spawn_quiet(mmx_argv(tiny_run(corpus, out, 1000000)));
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
  REQUIRE(run_mmx(command_line(tiny_run(corpus, short_out, 30))).exit_code == 0);
  CHECK(run_mmx("train --resume " + short_out.string()).exit_code == 0);  // already done
  const std::vector<nlohmann::json> log = mmx::nn::read_training_log(short_out / "log.jsonl");
  REQUIRE(log.size() == 3);
  CHECK(log.back().at("step") == 30);
  CHECK(std::filesystem::exists(short_out / "loss.png"));
}

TEST_CASE("--steps below the default warmup runs: the warmup keeps its share of the run") {
  ScratchDir dir("train-cli-warmup");
  const std::filesystem::path corpus = write_corpus(dir);
  std::vector<std::string> args = tiny_run(corpus, dir / "short", 20);
  const auto warmup = std::find(args.begin(), args.end(), "--warmup");
  args.erase(warmup, warmup + 2);  // tiny_run less its --warmup 1
  const std::string command = command_line(args);
  REQUIRE(run_mmx(command).exit_code == 0);
  CHECK(mmx::nn::read_saved_run(dir / "short").options.at("warmup") == 50 * 20 / 1000);
  // A warmup the user gave stays theirs, and out of range stays an error.
  const CliResult r = run_mmx(command + " --warmup 20");
  CHECK(r.exit_code != 0);
  CHECK(r.output.find("--warmup must lie in [0, --steps), got 20 with --steps 20") !=
        std::string::npos);
}

TEST_CASE("--resume: the run's own flags are accepted, a different value named, --steps extends") {
  ScratchDir dir("train-cli-resume");
  const std::filesystem::path corpus = write_corpus(dir), out = dir / "run";
  const std::string command = command_line(tiny_run(corpus, out, 20));
  REQUIRE(run_mmx(command).exit_code == 0);

  const CliResult same = run_mmx(command + " --resume " + out.string());
  CHECK(same.exit_code == 0);
  CHECK(same.output.find("resuming") != std::string::npos);
  struct Case {
    std::string flags, expected;
  };
  for (const Case& c : std::vector<Case>{
           {"--layers 2", "--layers 2 differs from the resumed run's 1; drop --layers"},
           {"--lr 0.01", "--lr 0.01 differs from the resumed run's 0.002"},
           {"--multimax-lr-scale 10", "--multimax-lr-scale 10 differs from the resumed run's 1"},
           {"--attn softmax", "--attn softmax differs from the resumed run's multimax"},
           {"--steps 10",
            "--steps 10 differs from the resumed run's 20 (a run can be extended, "
            "not shortened)"}}) {
    CAPTURE(c.flags);
    const CliResult r = run_mmx("train --resume " + out.string() + " " + c.flags);
    CHECK(r.exit_code != 0);
    CHECK(r.output.find(c.expected) != std::string::npos);
  }
  CHECK(mmx::nn::read_saved_run(out).step == 20);  // nothing was touched

  // Extended: the log goes on to step 40 from the saved state; a finished run is at --min-lr and
  // stays there.
  // The first command with --steps appended: the last value of a repeated flag wins.
  const CliResult longer = run_mmx(command + " --steps 40 --resume " + out.string());
  REQUIRE(longer.exit_code == 0);
  CHECK(longer.output.find("extending " + out.string() + " (lm) from 20 to 40 steps at step 20") !=
        std::string::npos);
  const std::vector<nlohmann::json> log = mmx::nn::read_training_log(out / "log.jsonl");
  REQUIRE(log.size() == 4);
  CHECK(log[3].at("step") == 40);
  CHECK(log[2].at("lr") == log[3].at("lr"));  // the floor
  CHECK(log[3].at("lr").get<double>() < log[1].at("lr").get<double>());
  const mmx::nn::SavedRun saved = mmx::nn::read_saved_run(out);
  CHECK(saved.step == 40);
  CHECK(saved.options.at("steps") == 40);
  CHECK(saved.options.at("extended_at") == 20);
}

TEST_CASE("--threads help: the default follows the load; a bit-exact repeat needs a fixed N") {
  // Every command that computes shares the flag's text (cli/threads.hpp).
  for (const char* command : {"train", "sample", "bench"}) {
    CAPTURE(command);
    const CliResult r = run_mmx(std::string(command) + " --help");
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("fewer while other processes hold") != std::string::npos);
    CHECK(r.output.find("bit for bit needs a fixed N") != std::string::npos);
  }
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
