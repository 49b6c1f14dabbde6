// `mmx bench train` through the built binary: the JSON keys match the PyTorch reference's
// (/work/shared/anchors/torch_reference.py) in order, the figures agree with each other, one
// child process per row, and bad flags exit non-zero with a message.
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/mmx_cli.hpp"

namespace {

std::vector<nlohmann::ordered_json> json_lines(const std::string& text) {
  std::vector<nlohmann::ordered_json> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(nlohmann::ordered_json::parse(line));
  return rows;
}

}  // namespace

TEST_CASE("bench train --json: the reference's keys, consistent figures, one row per pair") {
  const CliResult r = run_mmx(
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
  const CliResult r = run_mmx(
      "bench train --config tiny --attn multimax --steps 1 --warmup 0 --threads 1", false);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("tokens/s") != std::string::npos);
  CHECK(r.output.find("tiny   multimax") != std::string::npos);
}

TEST_CASE("bench train rejects unknown configs and attention functions") {
  for (const char* flags : {"--config huge", "--attn relu", "--steps 0"}) {
    CAPTURE(flags);
    const CliResult r = run_mmx(std::string("bench train ") + flags, true);
    CHECK(r.exit_code != 0);
    CHECK(r.output.find(std::string(flags).substr(0, 6)) != std::string::npos);
  }
}
