// The benchmarks of the normalizers and the matmul: `mmx bench normalizers` times the ops through
// the tape; mmx_bench_kernels (bench/) the raw kernels, the engine's matmul against bare
// oneDNN and the one-row gemv against oneDNN's one-row matmul. Which rows each prints, and what
// they carry; no figure is checked.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/layers/normalizers.hpp"
#include "tests/json_lines.hpp"
#include "tests/mmx_cli.hpp"

namespace {

// Runs `mmx_bench_kernels <arguments>` (stderr dropped), which must exit 0; its JSON rows.
std::vector<nlohmann::ordered_json> kernel_bench_rows(const std::string& arguments) {
  INFO("mmx_bench_kernels " << arguments);
  const CliResult r =
      run_shell(std::string(MMX_BENCH_KERNELS_PATH) + " " + arguments + " 2>/dev/null");
  REQUIRE(r.exit_code == 0);
  return json_lines(r.output);
}

std::vector<std::string> names(const std::vector<nlohmann::ordered_json>& rows) {
  std::vector<std::string> out;
  for (const auto& row : rows) out.push_back(row["name"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("mmx bench normalizers: every normalizer as an op through the tape, against SoftMax") {
  // A row per normalizer of the table, then MultiMax of order 1 and SoftMax at T = 0.5.
  std::vector<std::string> expected;
  for (const std::string& name : mmx::nn::normalizer_names())
    expected.push_back(name + " op + tape");
  expected.push_back("multimax order 1 op + tape");
  expected.push_back("softmax T=0.5 op + tape");
  const auto rows =
      mmx_json_rows("bench normalizers --json --repeats 1 --threads 1", expected.size());
  CHECK(names(rows) == expected);
  for (const auto& row : rows) {
    CAPTURE(row.dump());
    CHECK(row["suite"] == "normalizers");
    CHECK(row["rows"] == 16384);
    CHECK(row["cols"] == 256);
    CHECK(row.contains("ratio_vs_softmax"));
  }
}

TEST_CASE("mmx_bench_kernels normalizers: the kernels, fused MultiMax against its target") {
  const auto rows = kernel_bench_rows("normalizers --json --repeats 1 --threads 1");
  CHECK(names(rows) ==
        std::vector<std::string>{"softmax (oneDNN) kernels", "multimax order 2 kernels",
                                 "multimax order 1 kernels", "softmax_temperature kernels",
                                 "sparsemax kernels", "entmax15 kernels", "evsoftmax kernels"});
  for (const auto& row : rows) {
    CAPTURE(row.dump());
    CHECK(row["suite"] == "normalizers");
    // Only the fused MultiMax row is held to the ratio target.
    CHECK(row.contains("target_ratio") == (row["name"] == "multimax order 2 kernels"));
  }
  CHECK(rows.at(1)["target_ratio"] == 1.15);
  CHECK(rows.at(1)["meets_target"].is_boolean());
}

TEST_CASE("mmx_bench_kernels matmul: the engine's matmul and bare oneDNN at each size") {
  const auto rows = kernel_bench_rows("matmul --json --repeats 1 --threads 1");
  REQUIRE(rows.size() == 5);
  const std::vector<int64_t> sizes = {64, 128, 256, 512, 1024};
  for (size_t i = 0; i < rows.size(); ++i) {
    CAPTURE(rows[i].dump());
    CHECK(rows[i]["suite"] == "matmul");
    CHECK(rows[i]["n"] == sizes[i]);
    CHECK(rows[i].contains("engine_ms"));
    CHECK(rows[i].contains("onednn_ms"));
  }
  // The suite left `mmx bench`.
  CHECK(run_mmx("bench matmul --repeats 1").exit_code != 0);
}

TEST_CASE("mmx_bench_kernels gemv: the one-row products three ways, per small-config layer") {
  const auto rows = kernel_bench_rows("gemv --json --repeats 2 --threads 1");
  REQUIRE(rows.size() == 4);
  const std::vector<std::string> layers = {"qkv", "proj", "mlp.fc", "mlp.out"};
  for (size_t i = 0; i < rows.size(); ++i) {
    CAPTURE(rows[i].dump());
    CHECK(rows[i]["suite"] == "gemv");
    CHECK(rows[i]["layer"] == layers[i]);
    CHECK(rows[i]["gemv_us"].get<double>() > 0);
    CHECK(rows[i]["matmul_view_us"].get<double>() > 0);
    CHECK(rows[i]["matmul_prepacked_us"].get<double>() > 0);
  }
}
