// `mmx bench scaling` through the built binary: one row per (seq, d_model) cell in grid order,
// each from its own process (a small cell after a large one reports a smaller peak memory),
// figures that agree with each other, both grids in the table, and bad grids refused.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/json_lines.hpp"
#include "tests/mmx_cli.hpp"

TEST_CASE("bench scaling --json: a row per cell, in grid order, each its own process") {
  const auto rows = mmx_json_rows(
      "bench scaling --json --attn softmax --seqs 128,16 --d-models 32,64 --steps 1 "
      "--warmup 0 --threads 1",
      4);
  const std::vector<std::pair<int64_t, int64_t>> grid = {{128, 32}, {128, 64}, {16, 32}, {16, 64}};
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    CAPTURE(row.dump());
    CHECK(row["suite"] == "scaling");
    CHECK(row["attn"] == "softmax");
    CHECK(row["seq"] == grid[i].first);
    CHECK(row["d_model"] == grid[i].second);
    CHECK(row["layers"] == 4);
    CHECK(row["heads"] == 4);
    CHECK(row["batch"] == 8);
    CHECK(row["threads"] == 1);
    const double ms = row["ms_per_step"].get<double>();
    REQUIRE(ms > 0);
    CHECK(row["tokens_per_s"].get<double>() ==
          doctest::Approx(8.0 * static_cast<double>(grid[i].first) / ms * 1e3).epsilon(1e-3));
    CHECK(row["peak_rss_mb"].get<double>() > 0);
  }
  // Wider models have more parameters: 4 layers x 12 d^2 dominate.
  CHECK(rows[1]["params"].get<int64_t>() > rows[0]["params"].get<int64_t>());
}

TEST_CASE("bench scaling prints the ms/step and peak-memory grids") {
  const CliResult r = run_mmx(
      "bench scaling --attn multimax --seqs 16 --d-models 32 --steps 1 --warmup 0 --threads 1",
      false);
  REQUIRE(r.exit_code == 0);
  for (const char* text : {"scaling, multimax", "ms/step", "peak MB", "d_model 32", "seq 16"}) {
    CAPTURE(text);
    CHECK(r.output.find(text) != std::string::npos);
  }
}

TEST_CASE("bench scaling refuses bad grids before measuring") {
  struct Case {
    const char* flags;
    const char* message;
  };
  for (const Case& c : {Case{"--seqs 1", "--seqs"}, Case{"--d-models 30 --seqs 16", "d_model 30"},
                        Case{"--seqs 16,abc", "--seqs"}, Case{"--attn relu", "--attn"}}) {
    CAPTURE(c.flags);
    const CliResult r = run_mmx(std::string("bench scaling --steps 1 ") + c.flags, true);
    CHECK(r.exit_code != 0);
    CHECK(r.output.find(c.message) != std::string::npos);
  }
}
