// `mmx bench train` through the built binary: the JSON keys start with the PyTorch
// reference's (bench/torch_reference.py) in order, then the FLOP/MFU extras and how the threads
// ran; the figures agree with each other (tokens/s from ms/step, MFU from GFLOP/s: arithmetic,
// not timing), one child process per row, and bad flags exit non-zero with a message. No check here
// compares two times or a memory figure: those are measurements, and a busy machine moves them.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/json_lines.hpp"
#include "tests/mmx_cli.hpp"

TEST_CASE("bench train --json: the reference's keys, consistent figures, one row per pair") {
  const auto rows = mmx_json_rows(
      "bench train --json --config tiny --attn all --steps 2 --warmup 0 --threads 1 "
      "--sgemm-n 128",
      2);
  const std::vector<std::string> keys = {
      "engine",       "config",       "attn",         "threads",    "params",
      "ms_per_step",  "tokens_per_s", "peak_rss_mb",  "final_loss", "flops_per_token",
      "train_gflops", "sgemm_n",      "sgemm_gflops", "mfu",        "threads_adaptive",
      "busy_core"};
  for (const auto& row : rows) {
    CHECK(json_keys(row) == keys);
    CHECK(row["engine"].get<std::string>().rfind("multimax-", 0) == 0);
    CHECK(row["config"] == "tiny");
    CHECK(row["threads"] == 1);
    CHECK(row["threads_adaptive"] == false);  // --threads 1 fixed it
    CHECK(row["busy_core"] == false);
    const double ms = row["ms_per_step"].get<double>();
    REQUIRE(ms > 0);
    // batch 16 x seq 128 tokens per step, both figures rounded as the reference rounds them
    CHECK(row["tokens_per_s"].get<double>() == doctest::Approx(2048.0 / ms * 1e3).epsilon(1e-3));
    CHECK(row["peak_rss_mb"].get<double>() > 0);
    // random tokens over 96 symbols: the loss starts near ln 96 = 4.56
    const double loss = row["final_loss"].get<double>();
    CHECK(std::isfinite(loss));
    CHECK(loss == doctest::Approx(std::log(96.0)).epsilon(0.15));
    // 6 x params + 6 x layers (4) x seq (128) x d_model (128), exactly
    const double params = static_cast<double>(row["params"].get<int64_t>());
    CHECK(row["flops_per_token"].get<double>() == 6.0 * params + 6.0 * 4 * 128 * 128);
    const double gflops = row["train_gflops"].get<double>();
    CHECK(gflops == doctest::Approx(row["flops_per_token"].get<double>() *
                                    row["tokens_per_s"].get<double>() * 1e-9)
                        .epsilon(1e-2));
    CHECK(row["sgemm_n"] == 128);
    REQUIRE(row["sgemm_gflops"].get<double>() > 0);
    CHECK(row["mfu"].get<double>() ==
          doctest::Approx(gflops / row["sgemm_gflops"].get<double>()).epsilon(1e-2));
  }
  CHECK(rows[0]["attn"] == "softmax");
  CHECK(rows[1]["attn"] == "multimax");
  // MultiMax adds t[4] and r[4] per layer (4 layers), shared by the heads
  CHECK(rows[1]["params"].get<int64_t>() == rows[0]["params"].get<int64_t>() + 4 * 8);
}

TEST_CASE("bench overhead: SoftMax and MultiMax trained in turn, the same runs as bench train's") {
  const auto row =
      mmx_json_rows("bench overhead --json --config tiny --steps 3 --warmup 1 --threads 1", 1)[0];
  CHECK(json_keys(row) == std::vector<std::string>{
                              "suite", "config", "threads", "pairs", "softmax_ms_per_step",
                              "multimax_ms_per_step", "multimax_over_softmax", "softmax_final_loss",
                              "multimax_final_loss", "threads_adaptive", "busy_core"});
  CHECK(row["config"] == "tiny");
  CHECK(row["pairs"] == 3);
  CHECK(row["softmax_ms_per_step"].get<double>() > 0);
  CHECK(row["multimax_ms_per_step"].get<double>() > 0);
  CHECK(row["multimax_over_softmax"].get<double>() > 0);
  // Each model took warm-up + pairs = 4 steps, as bench train's 4 steps of the same seed.
  const auto train = mmx_json_rows(
      "bench train --json --config tiny --attn all --steps 4 --warmup 0 --threads 1 --sgemm-n 0",
      2);
  CHECK(row["softmax_final_loss"] == train[0]["final_loss"]);
  CHECK(row["multimax_final_loss"] == train[1]["final_loss"]);
  CHECK(row["softmax_final_loss"] != row["multimax_final_loss"]);
}

TEST_CASE("bench train --sgemm-n 0 skips the sgemm and leaves MFU empty") {
  const auto rows = mmx_json_rows(
      "bench train --json --config tiny --attn softmax --steps 1 --warmup 0 --threads 1 "
      "--sgemm-n 0",
      1);
  CHECK(rows[0]["sgemm_n"] == 0);
  CHECK(rows[0]["sgemm_gflops"].is_null());
  CHECK(rows[0]["mfu"].is_null());
  CHECK(rows[0]["train_gflops"].get<double>() > 0);
}

TEST_CASE("bench train prints a table by default") {
  const CliResult r = run_mmx(
      "bench train --config tiny --attn multimax --steps 1 --warmup 0 --threads 1 --sgemm-n 64",
      false);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("tokens/s") != std::string::npos);
  CHECK(r.output.find("MFU") != std::string::npos);
  CHECK(r.output.find("tiny   multimax") != std::string::npos);
  CHECK(r.output.find('%') != std::string::npos);  // the MFU cell
}

TEST_CASE("bench train --profile: every op of the step, largest first, with its calls") {
  const auto rows = mmx_json_rows(
      "bench train --json --profile --config tiny --attn multimax --steps 2 --warmup 1 "
      "--threads 1 --sgemm-n 0",
      1);
  const auto& profile = rows[0]["profile"];
  double total = profile["optimizer_ms"].get<double>();
  CHECK(total > 0);
  std::vector<std::string> names;
  double previous = 1e300;
  for (const auto& op : profile["ops"]) {
    names.push_back(op["op"].get<std::string>());
    const double fwd = op["forward_ms"].get<double>(), bwd = op["backward_ms"].get<double>();
    CHECK(fwd >= 0);
    CHECK(bwd >= 0);
    CHECK(fwd + bwd <= previous + 1e-3);  // largest first
    previous = fwd + bwd;
    total += fwd + bwd;
  }
  // The tiny GPT's ops, with per-step call counts: 4 blocks x (qkv, proj, fc, out) + the head.
  for (const char* op : {"linear", "causal_self_attention", "layer_norm", "cross_entropy"})
    CHECK_MESSAGE(std::find(names.begin(), names.end(), op) != names.end(), op);
  for (const auto& op : profile["ops"])
    if (op["op"] == "linear") CHECK(op["calls"].get<double>() == 17);
  // How the total compares with the step time is a measurement (README, docs/performance.md),
  // not a check: on a busy machine the two drift apart.
  CHECK(total > 0);
  // The table form names the ops too.
  const CliResult table = run_mmx(
      "bench train --profile --config tiny --attn softmax --steps 1 --warmup 0 --threads 1 "
      "--sgemm-n 0",
      false);
  REQUIRE(table.exit_code == 0);
  CHECK(table.output.find("where a tiny softmax step goes") != std::string::npos);
  CHECK(table.output.find("causal_self_attention") != std::string::npos);
  CHECK(table.output.find("optimizer step") != std::string::npos);
}

TEST_CASE("bench train rejects unknown configs and attention functions") {
  for (const char* flags : {"--config huge", "--attn relu", "--steps 0", "--sgemm-n -1"}) {
    CAPTURE(flags);
    const CliResult r = run_mmx(std::string("bench train ") + flags, true);
    CHECK(r.exit_code != 0);
    CHECK(r.output.find(std::string(flags).substr(0, 6)) != std::string::npos);
  }
}
