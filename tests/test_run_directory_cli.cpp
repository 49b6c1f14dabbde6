// `mmx train`'s run directory in a hostile world, the cases that need a second process, a signal
// or a resource limit (the others are rows of tests/hostile/rundir.rows): a second process is
// refused while a dead one's lock is not, `mmx compare` and `mmx demo` lock their folders the same
// way, a file-size limit fails a save like a full disk, SIGTERM before the first evaluation or
// repeated during the save still exits 0, a reader beside saves always loads one whole
// checkpoint, and a small address space is a clean error.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "engine/error.hpp"
#include "mmx_cli.hpp"
#include "nn/data/checkpoint.hpp"
#include "nn/tasks/trainer.hpp"
#include "nn/tasks/training_loop.hpp"
#include "scratch_dir.hpp"
#include "tiny_task_data.hpp"

namespace fs = std::filesystem;

namespace {

fs::path write_corpus(const ScratchDir& dir) {
  return write_word_corpus(dir / "corpus.txt", 5, {"red ", "green ", "blue\n", "grey, ", "pink. "},
                           4000);
}

std::vector<int64_t> logged_steps(const fs::path& out) {
  std::vector<int64_t> steps;
  for (const nlohmann::json& r : mmx::nn::read_training_log(out / "log.jsonl"))
    steps.push_back(r.at("step").get<int64_t>());
  return steps;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE(
    "a second process on a run directory fails at once naming the first; a dead one's "
    "lock does not block") {
  ScratchDir dir("rundir-lock");
  const fs::path corpus = write_corpus(dir), out = dir / "run";
  const pid_t first = spawn_quiet(mmx_argv(tiny_train_args(corpus, out, 400, 4)));
  REQUIRE(wait_for_file(out / mmx::data::kManifestFile, std::chrono::seconds(120)));
  // A new run (not a resume, which could meet the first's saves half done): the lock comes
  // before the check for a run there.
  const CliResult second =
      run_mmx(command_line(tiny_train_args(corpus, out, 8, 4)) + " --overwrite");
  kill(first, SIGKILL);  // a lock held by a killed process must not block the next run
  wait_for(first);
  CHECK(second.exit_code != 0);
  CHECK(contains(second.output, out.string() + " is in use by process " + std::to_string(first)));
  const CliResult resumed = run_mmx("train --threads 1 --resume " + out.string());
  CHECK(resumed.exit_code == 0);
  CHECK(logged_steps(out).back() == 400);
}

TEST_CASE("mmx compare and mmx demo lock their folders as mmx train locks its run directory") {
  ScratchDir dir("rundir-compare-lock");
  const fs::path corpus = write_corpus(dir);
  const auto args = [&](const std::string& command, const fs::path& out, int steps) {
    std::vector<std::string> a = {command,
                                  "--data",
                                  corpus.string(),
                                  "--out",
                                  out.string(),
                                  "--d-model",
                                  "16",
                                  "--layers",
                                  "1",
                                  "--heads",
                                  "2",
                                  "--seq",
                                  "8",
                                  "--batch",
                                  "2",
                                  "--warmup",
                                  "0",
                                  "--threads",
                                  "1",
                                  "--steps",
                                  std::to_string(steps),
                                  "--eval-interval",
                                  "2"};
    const std::vector<std::string> own =
        command == "compare" ? std::vector<std::string>{"--seeds", "1", "--attn", "softmax"}
                             : std::vector<std::string>{"--prompt", "red", "--sample-tokens", "5"};
    a.insert(a.end(), own.begin(), own.end());
    return a;
  };
  for (const auto& [command, first_run] : std::vector<std::pair<std::string, std::string>>{
           {"compare", "softmax-seed0"}, {"demo", "softmax"}}) {
    CAPTURE(command);
    const fs::path out = dir / command;
    const pid_t first = spawn_quiet(mmx_argv(args(command, out, 1000000)));
    REQUIRE(wait_for_file(out / first_run / "log.jsonl", std::chrono::seconds(120)));
    const CliResult second = run_mmx(command_line(args(command, out, 2)));
    const CliResult train_inside =
        run_mmx(command_line(tiny_train_args(corpus, out / first_run, 4, 4)) + " --overwrite");
    kill(first, SIGKILL);  // its locks die with it
    wait_for(first);
    const std::string holder = " is in use by process " + std::to_string(first);
    CHECK(second.exit_code == 1);
    CHECK(contains(second.output, command + ": " + out.string() + holder));
    CHECK(train_inside.exit_code == 1);
    CHECK(contains(train_inside.output, "train: " + (out / first_run).string() + holder));
    const CliResult after = run_mmx(command_line(args(command, out, 2)));
    CAPTURE(after.output);
    CHECK(after.exit_code == 0);
  }
}

TEST_CASE("a file-size limit during a save fails it like a full disk: old checkpoint kept") {
  ScratchDir dir("rundir-xfsz");
  const fs::path corpus = write_corpus(dir), out = dir / "run";
  REQUIRE(run_mmx(command_line(tiny_train_args(corpus, out, 10, 10))).exit_code == 0);
  REQUIRE(fs::file_size(out / mmx::data::kModelFile) > 8 * 1024);  // the limit cuts it
  // bash's ulimit -f counts 1024-byte blocks.
  const CliResult r =
      run_shell("bash -c 'ulimit -f 8; exec " + std::string(MMX_CLI_PATH) +
                " train --threads 1 --steps 20 --resume " + out.string() + "' 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(contains(r.output, "File too large"));
  for (const fs::directory_entry& e : fs::directory_iterator(out)) {
    CAPTURE(e.path());
    CHECK(e.path().extension() != ".tmp");
  }
  CHECK(mmx::data::load_checkpoint(out).step == 10);
}

TEST_CASE("SIGTERM before the first evaluation, or repeated during the save, exits 0") {
  ScratchDir dir("rundir-sigterm");
  const fs::path corpus = write_corpus(dir);
  struct Case {
    std::string name;
    int eval_interval;
    std::string wait_for;  // the file whose appearance says the moment has come
    bool repeat;           // SIGTERM again and again until the process ends
  };
  for (const Case& c : std::vector<Case>{
           {"before", 1000000, "log.jsonl", false},
           {"repeated", 4, mmx::data::kManifestFile, true},
       }) {
    CAPTURE(c.name);
    const fs::path out = dir / c.name;
    const pid_t pid = spawn_quiet(mmx_argv(tiny_train_args(corpus, out, 1000000, c.eval_interval)));
    REQUIRE(wait_for_file(out / c.wait_for, std::chrono::seconds(120)));
    REQUIRE(kill(pid, SIGTERM) == 0);
    int status = 0;
    while (c.repeat && waitpid(pid, &status, WNOHANG) == 0) {
      kill(pid, SIGTERM);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    const int code =
        c.repeat ? (WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status)) : wait_for(pid);
    CHECK(code == 0);
    CHECK(mmx::data::checkpoint_present(out));
  }
}

TEST_CASE("a reader beside a run that saves every step always loads one whole checkpoint") {
  ScratchDir dir("rundir-reader");
  const fs::path corpus = write_corpus(dir), out = dir / "run";
  const pid_t pid = spawn_quiet(mmx_argv(tiny_train_args(corpus, out, 300, 1)));
  REQUIRE(wait_for_file(out / mmx::data::kManifestFile, std::chrono::seconds(120)));
  // In-process loads, many per save, and now and then `mmx sample` as a user would run it.
  int loads = 0, samples = 0, failures = 0;
  std::string last_failure;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    try {
      const mmx::data::Checkpoint c = mmx::data::load_checkpoint(out);
      CHECK(c.step >= 1);
      ++loads;
    } catch (const mmx::Error& e) {
      last_failure = e.what();
      ++failures;
    }
    if (loads % 25 == 0) {
      const CliResult r = run_mmx("sample --threads 1 --tokens 5 --ckpt " + out.string());
      if (r.exit_code != 0) {
        last_failure = r.output;
        ++failures;
      }
      ++samples;
    }
  }
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  MESSAGE("checkpoint loads: ", loads, ", mmx sample runs: ", samples);
  CHECK(loads >= 1);  // the reader did overlap the saves (how often depends on the machine)
  CAPTURE(last_failure);
  CHECK(failures == 0);
}

TEST_CASE("an address-space limit too small for oneDNN is a clean error, not SIGSEGV") {
#ifdef MMX_SANITIZED
  MESSAGE("skipped: AddressSanitizer cannot start under `ulimit -v` (its shadow memory)");
  return;
#endif
  ScratchDir dir("rundir-ulimit-v");
  const fs::path corpus = write_corpus(dir);
  std::vector<std::string> args = tiny_train_args(corpus, dir / "run", 4, 4);
  // Two threads crashed under 70,000 KB, one did not.
  *(std::find(args.begin(), args.end(), "--threads") + 1) = "2";
  const CliResult r = run_shell("bash -c 'ulimit -v 70000; exec " + std::string(MMX_CLI_PATH) +
                                " " + command_line(args) + "' 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(contains(r.output, "the address-space limit (ulimit -v) is 70000 KB; mmx needs at least"));
}
