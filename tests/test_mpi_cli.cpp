// `mpirun -np N mmx train` (data-parallel training over MPI) as a user runs it on one machine:
// two ranks reproduce one process's loss curve (lm and vit), a checkpoint moves between 1 and 2
// ranks, a batch two ranks cannot split is a clear error, and a rank killed mid-run ends the job
// within seconds with the last checkpoint loadable. Built only with MMX_MPI (tests/CMakeLists.txt).
#include <doctest/doctest.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "mmx_cli.hpp"
#include "nn/tasks/training_loop.hpp"
#include "scratch_dir.hpp"
#include "tiny_task_data.hpp"

namespace {

// As root, Open MPI refuses to start without these. --bind-to none: two tests (or two ctest
// jobs) launching at once would otherwise pin their rank 0s to the same core.
std::string mpirun(int ranks) {
  return "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe "
         "--bind-to none -np " +
         std::to_string(ranks) + " " + MMX_CLI_PATH;
}

std::filesystem::path write_corpus(const ScratchDir& dir) {
  return write_word_corpus(dir / "corpus.txt", 3, {"one ", "two ", "three\n", "four, ", "five. "},
                           4000);
}

// A tiny lm run; one thread per rank; no dropout, so every rank's arithmetic is the same.
std::string tiny_run(const std::filesystem::path& corpus, const std::filesystem::path& out,
                     int steps, int eval_interval) {
  return "train --data " + corpus.string() + " --out " + out.string() +
         " --d-model 16 --layers 1 --heads 2 --seq 16 --batch 4 --warmup 1 --eval-batch 4"
         " --threads 1 --dropout 0 --attn multimax --steps " +
         std::to_string(steps) + " --eval-interval " + std::to_string(eval_interval);
}

// Every logged train and validation loss of `run` within `relative` of `reference`'s.
void check_same_curve(const std::filesystem::path& reference, const std::filesystem::path& run,
                      size_t records, double relative) {
  const std::vector<nlohmann::json> a = mmx::nn::read_training_log(reference / "log.jsonl");
  const std::vector<nlohmann::json> b = mmx::nn::read_training_log(run / "log.jsonl");
  REQUIRE(a.size() == records);
  REQUIRE(b.size() == records);
  double worst = 0;
  for (size_t i = 0; i < records; ++i) {
    CHECK(a[i].at("step") == b[i].at("step"));
    for (const char* key : {"train_loss", "val_loss"}) {
      const double x = a[i].at(key).get<double>(), y = b[i].at(key).get<double>();
      worst = std::max(worst, std::abs(x - y) / std::abs(x));
    }
  }
  CAPTURE(worst);
  CHECK(worst <= relative);
}

// Starts `command` through the shell (exec'd, so the pid is the command's), output to `log`.
pid_t spawn_shell(const std::string& command, const std::filesystem::path& log) {
  const std::string line = "exec " + command + " >" + log.string() + " 2>&1";
  const char* argv[] = {"/bin/sh", "-c", line.c_str(), nullptr};
  pid_t pid = -1;
  REQUIRE(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) == 0);
  return pid;
}

// The child of `parent` whose environment says it is MPI rank `rank`; -1 if none.
pid_t find_rank(pid_t parent, int rank) {
  const std::string wanted = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const size_t close = text.rfind(')');  // the command name may hold spaces
    if (close == std::string::npos) continue;
    std::istringstream fields(text.substr(close + 1));
    std::string state;
    pid_t ppid = -1;
    fields >> state >> ppid;
    if (ppid != parent) continue;
    std::ifstream environ_file(entry.path() / "environ");
    std::string variable;
    while (std::getline(environ_file, variable, '\0'))
      if (variable == wanted) return static_cast<pid_t>(std::stoi(name));
  }
  return -1;
}

int64_t checkpoint_step(const std::filesystem::path& dir) {
  const CliResult r = run_mmx("eval --ckpt " + dir.string() + " --threads 1");
  REQUIRE(r.exit_code == 0);
  const size_t at = r.output.find(", step ");
  REQUIRE(at != std::string::npos);
  return std::stoll(r.output.substr(at + 7));
}
}  // namespace

TEST_CASE("2 ranks reproduce 1 process's loss curve over 50 steps; rank 0 alone prints") {
  ScratchDir dir("mpi-curve");
  const std::filesystem::path corpus = write_corpus(dir);
  REQUIRE(run_mmx(tiny_run(corpus, dir / "one", 50, 1)).exit_code == 0);
  const CliResult two = run_shell(mpirun(2) + " " + tiny_run(corpus, dir / "two", 50, 1) + " 2>&1");
  REQUIRE(two.exit_code == 0);
  check_same_curve(dir / "one", dir / "two", 50, 1e-5);
  // One copy of each line rank 0 prints, and the data-parallel summary.
  const auto count = [&](const std::string& text) {
    size_t n = 0;
    for (size_t at = two.output.find(text); at != std::string::npos;
         at = two.output.find(text, at + 1))
      ++n;
    return n;
  };
  CHECK(count("step 50: val loss") == 1);
  CHECK(count("train step 50:") == 1);
  CHECK(count("data-parallel over 2 ranks") == 1);
  CHECK(count("data-parallel: 2 ranks; per step and rank:") == 1);
}

TEST_CASE("vit: 2 ranks reproduce 1 process's loss curve (each takes half the images)") {
  ScratchDir dir("mpi-vit");
  write_tiny_image_set(dir / "images");
  const auto run = [&](const std::string& out) {
    return "train --task vit --data " + (dir / "images").string() + " --out " +
           (dir / out).string() +
           " --patch 4 --batch 16 --eval-batch 40 --steps 10 --eval-interval 1 --warmup 1"
           " --threads 1 --dropout 0 --d-model 16 --heads 2 --layers 1";
  };
  REQUIRE(run_mmx(run("one")).exit_code == 0);
  REQUIRE(run_shell(mpirun(2) + " " + run("two") + " 2>&1").exit_code == 0);
  check_same_curve(dir / "one", dir / "two", 10, 1e-5);
}

TEST_CASE("a rank killed mid-run ends the job; the checkpoint resumes on 1 rank") {
  ScratchDir dir("mpi-kill");
  const std::filesystem::path corpus = write_corpus(dir);
  constexpr int kSteps = 600;
  REQUIRE(run_mmx(tiny_run(corpus, dir / "straight", kSteps, 10)).exit_code == 0);

  const std::filesystem::path out = dir / "killed";
  const pid_t job =
      spawn_shell(mpirun(2) + " " + tiny_run(corpus, out, kSteps, 10), dir / "job.log");
  REQUIRE(wait_for_file(out / "checkpoint.json", std::chrono::seconds(60)));
  pid_t rank1 = -1;
  for (int tries = 0; rank1 < 0 && tries < 100; ++tries) rank1 = find_rank(job, 1);
  REQUIRE(rank1 > 0);
  REQUIRE(kill(rank1, SIGKILL) == 0);
  // A job that hung instead would be ended by ctest's timeout and fail there.
  const int exit_code = wait_for(job);
  CHECK(exit_code != 0);
  std::ifstream log(dir / "job.log");
  const std::string report((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  CAPTURE(report);
  CHECK(report.find("rank 1") != std::string::npos);
  CHECK(report.find("signal 9") != std::string::npos);

  // The checkpoint loads, and one process continues it to the end on the same curve.
  const int64_t step = checkpoint_step(out);
  CHECK(step > 0);
  REQUIRE(step < kSteps);  // killed mid-run, not after the end
  REQUIRE(run_mmx("train --resume " + out.string() + " --threads 1").exit_code == 0);
  check_same_curve(dir / "straight", out, kSteps / 10, 1e-5);
}

TEST_CASE("a 1-process checkpoint resumes on 2 ranks and stays on the curve") {
  ScratchDir dir("mpi-grow");
  const std::filesystem::path corpus = write_corpus(dir);
  constexpr int kSteps = 600;
  REQUIRE(run_mmx(tiny_run(corpus, dir / "straight", kSteps, 10)).exit_code == 0);

  const std::filesystem::path out = dir / "grown";
  const pid_t single = spawn_shell(
      std::string(MMX_CLI_PATH) + " " + tiny_run(corpus, out, kSteps, 10), dir / "single.log");
  REQUIRE(wait_for_file(out / "checkpoint.json", std::chrono::seconds(60)));
  REQUIRE(kill(single, SIGINT) == 0);  // Ctrl-C: saves and exits 0
  REQUIRE(wait_for(single) == 0);
  REQUIRE(checkpoint_step(out) < kSteps);

  const CliResult two =
      run_shell(mpirun(2) + " train --resume " + out.string() + " --threads 1 2>&1");
  CAPTURE(two.output);
  REQUIRE(two.exit_code == 0);
  CHECK(two.output.find("resuming") != std::string::npos);
  check_same_curve(dir / "straight", out, kSteps / 10, 1e-5);
}

TEST_CASE(
    "a batch 2 ranks cannot split, --task mt, or another command: one clear error per rank, no "
    "hang") {
  ScratchDir dir("mpi-bad");
  const std::filesystem::path corpus = write_corpus(dir);
  struct Case {
    std::string arguments, expected;
  };
  const std::vector<Case> cases = {
      {"train --data " + corpus.string() +
           " --d-model 16 --layers 1 --heads 2 --seq 16"
           " --batch 3 --warmup 1 --steps 10 --threads 1 --out " +
           (dir / "odd").string(),
       "train: --batch 3 is not a multiple of the 2 ranks"},
      {"train --task mt --steps 10 --warmup 1 --threads 1 --out " + (dir / "mt").string(),
       "train: data-parallel training (2 ranks) supports --task lm and vit, not mt"},
      {"bench normalizers --repeats 1",
       "only `mmx train` runs data-parallel; start `mmx bench` as one process, without mpirun"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.arguments);
    // A hang, not a slow machine: a clean error takes a second or two even under load.
    const CliResult r = run_shell("timeout 300 " + mpirun(2) + " " + c.arguments + " 2>&1");
    CAPTURE(r.output);
    CHECK(r.exit_code != 0);
    CHECK(r.exit_code != 124);  // timeout's code: the job hung
    CHECK(r.output.find("mmx: error (rank 0 of 2): " + c.expected) != std::string::npos);
    CHECK(r.output.find("mmx: error (rank 1 of 2): " + c.expected) != std::string::npos);
  }
}
