// `mmx bench sample` through the built binary: greedy decoding with and without the KV cache
// gives the same tokens, the speed-up is the ratio of the two rates, and bad flags are refused.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/json_lines.hpp"
#include "tests/mmx_cli.hpp"

TEST_CASE("bench sample --json: cached and uncached agree, speed-up = their ratio") {
  const auto rows = mmx_json_rows(
      "bench sample --json --config tiny --attn all --tokens 12 --rounds 2 --threads 1", 2);
  CHECK(rows[0]["attn"] == "softmax");
  CHECK(rows[1]["attn"] == "multimax");
  for (const auto& row : rows) {
    CAPTURE(row.dump());
    CHECK(row["suite"] == "sample");
    CHECK(row["config"] == "tiny");
    CHECK(row["threads"] == 1);
    CHECK(row["tokens"] == 12);
    CHECK(row["rounds"] == 2);
    CHECK(row["same_tokens"] == true);
    const double cached = row["cached_tokens_per_s"].get<double>();
    const double uncached = row["uncached_tokens_per_s"].get<double>();
    REQUIRE(cached > 0);
    REQUIRE(uncached > 0);
    CHECK(row["speedup"].get<double>() == doctest::Approx(cached / uncached).epsilon(0.01));
    // Against the machine: the per-token time, the rate in FLOPs, the streaming floor of the
    // weights (tiny: 4 x 0.8M parameters, less one row each of the token and position tables
    // unread) and the rate over one full forward at the whole context, each consistent.
    CHECK(row["ms_per_token"].get<double>() == doctest::Approx(1e3 / cached).epsilon(0.01));
    CHECK(row["gflops"].get<double>() > 0);
    CHECK(row["weight_mb"].get<double>() > 3.0);
    CHECK(row["weight_mb"].get<double>() < 4.0 * row["params"].get<double>() / 1e6);
    const double floor_rate = row["floor_tokens_per_s"].get<double>();
    REQUIRE(floor_rate > 0);
    CHECK(row["floor_fraction"].get<double>() ==
          doctest::Approx(cached / floor_rate).epsilon(0.01));
    const double full = row["full_context_tokens_per_s"].get<double>();
    REQUIRE(full > 0);
    CHECK(row["speedup_full_context"].get<double>() ==
          doctest::Approx(cached / full).epsilon(0.01));
  }
}

TEST_CASE("bench sample: 0 tokens means the whole context after the prompt; a table by default") {
  const auto rows =
      mmx_json_rows("bench sample --json --config tiny --attn softmax --rounds 1 --threads 1", 1);
  CHECK(rows[0]["tokens"] == 127);  // tiny's seq 128 minus the one-token prompt

  const CliResult table = run_mmx(
      "bench sample --config tiny --attn multimax --tokens 4 --rounds 1 --threads 1", false);
  REQUIRE(table.exit_code == 0);
  CHECK(table.output.find("cached tok/s") != std::string::npos);
  CHECK(table.output.find("of floor") != std::string::npos);
  CHECK(table.output.find("tiny   multimax") != std::string::npos);
}

TEST_CASE("bench sample refuses bad flags") {
  struct Case {
    const char* flags;
    const char* message;
  };
  for (const Case& c :
       {Case{"--config tiny --tokens 128", "does not fit"}, Case{"--rounds 0", "--rounds"},
        Case{"--tokens -3", "--tokens"}, Case{"--config huge", "--config"}}) {
    CAPTURE(c.flags);
    const CliResult r = run_mmx(std::string("bench sample ") + c.flags, true);
    CHECK(r.exit_code != 0);
    CHECK(r.output.find(c.message) != std::string::npos);
  }
}
