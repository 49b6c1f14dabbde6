// `mmx bench --busy-core`: a busy-loop child process holds a core while the suites run; it is
// killed and reaped when the bench ends, whether the suites finished or one failed, so no
// process (and no zombie) is left behind.
#include <doctest/doctest.h>
#include <signal.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/mmx_cli.hpp"

namespace {

// The pid in "busy core: process <pid> <what>", or -1 when no such line is in `output`.
int busy_core_pid(const std::string& output, const std::string& what) {
  const std::string head = "busy core: process ";
  for (size_t at = output.find(head); at != std::string::npos; at = output.find(head, at + 1)) {
    const size_t digits = at + head.size();
    const size_t end = output.find(' ', digits);
    if (end == std::string::npos || output.compare(end + 1, what.size(), what) != 0) continue;
    return std::stoi(output.substr(digits, end - digits));
  }
  return -1;
}

bool process_exists(int pid) {
  return kill(pid, 0) == 0 || errno != ESRCH;
}

}  // namespace

TEST_CASE("bench --busy-core: the busy loop runs during the bench and is gone after it") {
  const CliResult r =
      run_mmx("bench sample --json --config tiny --attn softmax --tokens 4 --rounds 1 --busy-core");
  CAPTURE(r.output);
  REQUIRE(r.exit_code == 0);
  const int pid = busy_core_pid(r.output, "spins");
  REQUIRE(pid > 0);
  CHECK(busy_core_pid(r.output, "ended") == pid);  // reaped by the bench: its CPU time is known
  CHECK_FALSE(process_exists(pid));
  // --json rows stay one object per line on stdout: the busy-core lines go to stderr.
  const CliResult json = run_mmx(
      "bench sample --json --config tiny --attn softmax --tokens 4 --rounds 1 --busy-core", false);
  REQUIRE(json.exit_code == 0);
  CHECK(json.output.find("busy core") == std::string::npos);
  // Each row says the core was busy and that its thread count was left to the load.
  const nlohmann::json row = nlohmann::json::parse(json.output);
  CHECK(row["busy_core"] == true);
  CHECK(row["threads_adaptive"] == true);
}

TEST_CASE("bench train --busy-core: a row from a child process says the core was busy") {
  const CliResult r = run_mmx(
      "bench train --json --config tiny --attn all --steps 1 --warmup 0 --sgemm-n 0 --threads 1 "
      "--busy-core",
      false);
  REQUIRE(r.exit_code == 0);
  std::istringstream lines(r.output);
  int rows = 0;
  for (std::string line; std::getline(lines, line); ++rows) {
    const nlohmann::json row = nlohmann::json::parse(line);
    CHECK(row["busy_core"] == true);
    CHECK(row["threads_adaptive"] == false);
    CHECK(row["threads"] == 1);
  }
  CHECK(rows == 2);  // softmax and multimax, each from its own child
}

TEST_CASE("bench --busy-core: gone after a suite fails too") {
  const CliResult r = run_mmx("bench sample --config tiny --tokens 128 --busy-core");
  CAPTURE(r.output);
  CHECK(r.exit_code != 0);
  CHECK(r.output.find("does not fit") != std::string::npos);
  const int pid = busy_core_pid(r.output, "spins");
  REQUIRE(pid > 0);
  CHECK_FALSE(process_exists(pid));
}

TEST_CASE("bench --busy-core refuses a value it cannot read") {
  const CliResult r = run_mmx("bench sample --config tiny --busy-core=often");
  CHECK(r.exit_code != 0);
  CHECK(r.output.find("--busy-core") != std::string::npos);
}
