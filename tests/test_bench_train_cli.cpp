// `mmx bench train` through the built binary: the JSON keys match the PyTorch reference's
// (/work/shared/anchors/torch_reference.py) in order, the figures agree with each other, one
// child process per row, and bad flags exit non-zero with a message.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace {

struct RunResult {
  int exit_code;
  std::string output;  // stdout, and stderr when asked for
};

RunResult run_mmx(const std::string& arguments, bool with_stderr) {
  const std::string command =
      std::string(MMX_CLI_PATH) + " " + arguments + (with_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::vector<nlohmann::ordered_json> json_lines(const std::string& text) {
  std::vector<nlohmann::ordered_json> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(nlohmann::ordered_json::parse(line));
  return rows;
}

}  // namespace

TEST_CASE("bench train --json: the reference's keys, consistent figures, one row per pair") {
  const RunResult r = run_mmx(
      "bench train --json --config tiny --attn all --steps 2 --warmup 0 --threads 1", false);
  REQUIRE(r.exit_code == 0);
  const auto rows = json_lines(r.output);
  REQUIRE(rows.size() == 2);
  const std::vector<std::string> keys = {"engine", "config", "attn", "threads", "params",
                                         "ms_per_step", "tokens_per_s", "peak_rss_mb",
                                         "final_loss"};
  for (const auto& row : rows) {
    std::vector<std::string> got;
    for (const auto& [key, value] : row.items()) got.push_back(key);
    CHECK(got == keys);
    CHECK(row["engine"].get<std::string>().rfind("multimax-", 0) == 0);
    CHECK(row["config"] == "tiny");
    CHECK(row["threads"] == 1);
    const double ms = row["ms_per_step"].get<double>();
    REQUIRE(ms > 0);
    // batch 16 x seq 128 tokens per step, both figures rounded as the reference rounds them
    CHECK(row["tokens_per_s"].get<double>() == doctest::Approx(2048.0 / ms * 1e3).epsilon(1e-3));
    CHECK(row["peak_rss_mb"].get<double>() > 10.0);
    // random tokens over 96 symbols: the loss starts near ln 96 = 4.56
    const double loss = row["final_loss"].get<double>();
    CHECK(std::isfinite(loss));
    CHECK(loss == doctest::Approx(std::log(96.0)).epsilon(0.15));
  }
  CHECK(rows[0]["attn"] == "softmax");
  CHECK(rows[1]["attn"] == "multimax");
  // MultiMax adds t[4] and r[4] per layer (4 layers), shared by the heads
  CHECK(rows[1]["params"].get<int64_t>() == rows[0]["params"].get<int64_t>() + 4 * 8);
}

TEST_CASE("bench train prints a table by default") {
  const RunResult r = run_mmx(
      "bench train --config tiny --attn multimax --steps 1 --warmup 0 --threads 1", false);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("tokens/s") != std::string::npos);
  CHECK(r.output.find("tiny   multimax") != std::string::npos);
}

TEST_CASE("bench train rejects unknown configs and attention functions") {
  for (const char* flags : {"--config huge", "--attn relu", "--steps 0"}) {
    CAPTURE(flags);
    const RunResult r = run_mmx(std::string("bench train ") + flags, true);
    CHECK(r.exit_code != 0);
    CHECK(r.output.find(std::string(flags).substr(0, 6)) != std::string::npos);
  }
}
