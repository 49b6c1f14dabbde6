// `mmx explore`: the report's numbers against MultiMax's closed-form gradients (docs/design.md),
// the documented default's claim (sparser and more multi-modal than SoftMax), input errors,
// and the built binary's JSON, error exits and figures.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/inspect/explore_report.hpp"
#include "engine/error.hpp"
#include "mmx_cli.hpp"
#include "plot/png_io.hpp"
#include "tests/scratch_dir.hpp"

using namespace mmx::cli;

namespace {

const MappingResult& find(const ExploreReport& report, const std::string& name,
                          float temperature = 1) {
  for (const MappingResult& m : report.mappings)
    if (m.name == name && (!m.temperature || *m.temperature == temperature)) return m;
  FAIL("no mapping " << name);
  throw;
}

double relu(double v) {
  return v > 0 ? v : 0;
}

// Float gradients that are sums of cancelling terms (dr1 below) are exact only to ~1e-7.
bool close(double actual, double expected) {
  return std::abs(actual - expected) <= 1e-4 * std::abs(expected) + 1e-6;
}

}  // namespace

TEST_CASE("explore reports every mapping, each a distribution") {
  ExploreOptions options;
  options.values = {10, 8, -1};
  const ExploreReport report = explore(options);
  std::vector<std::string> names;
  for (const MappingResult& m : report.mappings) {
    names.push_back(m.name);
    double total = 0;
    for (float p : m.p) {
      CHECK(p >= 0);
      total += p;
    }
    CHECK(total == doctest::Approx(1).epsilon(1e-5));
    CHECK(m.support >= 1);
    CHECK(m.support <= 3);
  }
  CHECK(names == std::vector<std::string>{"softmax", "softmax", "softmax", "sparsemax", "entmax15",
                                          "evsoftmax", "multimax"});
  CHECK(report.reference == doctest::Approx(find(report, "softmax").p[2]));
  CHECK(find(report, "sparsemax").support == 1);  // (10, 8, -1): the gap 2 exceeds SparseMax's 1
}

TEST_CASE("the default MultiMax setting is sparser and more multi-modal than SoftMax on 10,8,-1") {
  ExploreOptions options;
  options.values = {10, 8, -1};
  const ExploreReport report = explore(options);
  const MappingResult& softmax = find(report, "softmax", 1.0f);
  const MappingResult& multimax = find(report, "multimax");
  CHECK(multimax.multimodality > softmax.multimodality + 0.1);
  CHECK(multimax.sparsity > softmax.sparsity + 0.1);
  CHECK(multimax.p[2] < softmax.p[2]);
}

TEST_CASE("MultiMax's sigma, slope and gradients match the closed forms of docs/design.md") {
  struct Row {
    std::vector<float> values;
    std::array<float, 4> t, r;
    int order;
    std::optional<int64_t> target;
  };
  const Row rows[] = {
      {{10, 8, -1}, kDefaultT, kDefaultR, 2, std::nullopt},
      {{10, 8, -1}, kDefaultT, kDefaultR, 2, 1},
      {{1.5f, -0.3f, 2.2f, 0.4f}, {0.3f, -0.2f, 0.1f, 0.05f}, {0.0f, 1.0f, -0.5f, 1.8f}, 2, 3},
      {{1.5f, -0.3f, 2.2f, 0.4f},
       {0.3f, -0.2f, 0.1f, 0.05f},
       {0.0f, 1.0f, -0.5f, 1.8f},
       1,
       std::nullopt},
  };
  for (const Row& row : rows) {
    ExploreOptions options;
    options.values = row.values;
    options.t = row.t;
    options.r = row.r;
    options.order = row.order;
    options.target = row.target;
    const ExploreReport report = explore(options);
    const MappingResult& mm = find(report, "multimax");
    const auto& t = row.t;
    const auto& r = row.r;
    const double q = row.order == 2 ? 1.0 : 0.0;  // order 1 drops the quadratic terms
    const size_t n = row.values.size();
    const size_t K = static_cast<size_t>(report.grad.target);
    const auto largest =
        std::max_element(row.values.begin(), row.values.end()) - row.values.begin();
    CHECK(report.grad.target == row.target.value_or(largest));
    CHECK(report.grad.loss == doctest::Approx(-std::log(mm.p[K])).epsilon(1e-5));
    std::array<double, 4> dt{}, dr{};
    for (size_t i = 0; i < n; ++i) {
      const double x = row.values[i];
      const double sigma =
          x + t[0] * relu(r[0] - x) + t[1] * relu(x - r[1]) +
          q * (t[2] * relu(r[2] - x) * relu(r[2] - x) + t[3] * relu(x - r[3]) * relu(x - r[3]));
      const double slope = 1 - t[0] * (x < r[0]) + t[1] * (x > r[1]) +
                           q * (-2 * t[2] * relu(r[2] - x) + 2 * t[3] * relu(x - r[3]));
      CHECK(mm.sigma[i] == doctest::Approx(sigma).epsilon(1e-5));
      CHECK(mm.dsigma_dx[i] == doctest::Approx(slope).epsilon(1e-5));
      // -log p[K] through softmax: ds = p - onehot(K).
      const double ds = mm.p[i] - (i == K ? 1.0 : 0.0);
      CHECK(close(report.grad.dx[i], ds * slope));
      dt[0] += ds * relu(r[0] - x), dr[0] += ds * t[0] * (x < r[0]);
      dt[1] += ds * relu(x - r[1]), dr[1] -= ds * t[1] * (x > r[1]);
      dt[2] += q * ds * relu(r[2] - x) * relu(r[2] - x),
          dr[2] += q * ds * 2 * t[2] * relu(r[2] - x);
      dt[3] += q * ds * relu(x - r[3]) * relu(x - r[3]),
          dr[3] -= q * ds * 2 * t[3] * relu(x - r[3]);
    }
    for (size_t k = 0; k < 4; ++k) {
      CHECK(close(report.grad.dt[k], dt[k]));
      CHECK(close(report.grad.dr[k], dr[k]));
    }
  }
}

TEST_CASE("explore stays exact where float32 probabilities underflow (issue 18)") {
  // Each row failed before: a loss and gradients of inf/NaN (log of an underflowed p), a loss of
  // 1.43e-6 for log(1 + e^-100) (oneDNN's log(1)), S flushed to 1 for a weight below e^-87.3,
  // and SparseMax / EntMax-1.5 of [1e16, 0] that were no distributions.
  struct Row {
    std::vector<float> values;
    std::optional<int64_t> target;
    double loss;                               // -log_softmax(sigma(x))[K] in float64
    std::vector<float> dx;                     // empty: not checked
    float eps;                                 // between the scores: S reads the smallest only
    std::vector<float> sparsemax_p, entmax_p;  // empty: not checked
  };
  // t = r = 0: sigma(x) = x. SoftMax(T=1)'s smallest weight is s itself: its S is e^-1.
  const Row rows[] = {
      {{0, -200}, 1, 200.0, {1, -1}, -100, {1, 0}, {1, 0}},
      {{100, 0}, std::nullopt, std::log1p(std::exp(-100.0)), {}, 50, {1, 0}, {1, 0}},
      {{0, -100}, 1, 100.0, {1, -1}, -50, {1, 0}, {1, 0}},
      {{0, -80}, std::nullopt, std::log1p(std::exp(-80.0)), {}, -40, {1, 0}, {1, 0}},
      {{1e16f, 0}, 1, 1e16, {1, -1}, 5e15f, {1, 0}, {1, 0}},
      {{1e16f, 1e16f, 0}, 0, std::log(2.0), {}, 1, {0.5f, 0.5f, 0}, {0.5f, 0.5f, 0}},
  };
  for (const Row& row : rows) {
    ExploreOptions options;
    options.values = row.values;
    options.t = options.r = {0, 0, 0, 0};
    options.target = row.target;
    options.temperatures = {1};
    options.eps = row.eps;
    CAPTURE(row.values[0]);
    CAPTURE(row.values[1]);
    const ExploreReport report = explore(options);
    CHECK(std::abs(report.grad.loss - row.loss) <= 1e-6 * row.loss);
    CHECK(std::isfinite(report.grad.loss));
    for (size_t i = 0; i < row.dx.size(); ++i) CHECK(report.grad.dx[i] == row.dx[i]);
    for (float v : report.grad.dt) CHECK(std::isfinite(v));
    for (float v : report.grad.dr) CHECK(std::isfinite(v));
    CHECK(find(report, "softmax").sparsity == doctest::Approx(std::exp(-1.0)));
    for (const auto& [name, want] :
         {std::pair{"sparsemax", row.sparsemax_p}, std::pair{"entmax15", row.entmax_p}}) {
      if (want.empty()) continue;
      const MappingResult& m = find(report, name);
      CAPTURE(name);
      CHECK(m.p == want);
      const double entropy = want.front() == 0.5f ? std::log(2.0) : 0.0;
      CHECK(m.entropy == doctest::Approx(entropy));
    }
  }
}

TEST_CASE("explore: EvSoftMax's kept weights below e^-87.3 keep their measures") {
  // Mean -100: EvSoftMax keeps 0 and -100, whose weight e^-100 float32 holds as 0. Before, the
  // measures read log of that 0: support 1, and S (eps 0: over -100 and -200) counted the kept
  // entry as a zero weight, S = 1. From its kept logits: support 2, S = (e^-(e^-100/s) + 1)/2
  // with s = e^-200 (its smallest SoftMax weight), so 0.5; the entropy is 101 e^-100 > 0.
  ExploreOptions options;
  options.values = {0, -100, -200};
  const ExploreReport report = explore(options);
  const MappingResult& ev = find(report, "evsoftmax");
  CHECK(ev.p == std::vector<float>{1, 0, 0});
  CHECK(ev.support == 2);
  CHECK(ev.sparsity == doctest::Approx(0.5));
  CHECK(ev.entropy == doctest::Approx(101 * std::exp(-100.0)).epsilon(1e-6));
  CHECK(ev.entropy > 0);
}

TEST_CASE("bad explore input is an mmx::Error naming the option") {
  auto error_of = [](ExploreOptions options) {
    try {
      explore(options);
    } catch (const mmx::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  ExploreOptions good;
  good.values = {10, 8, -1};
  ExploreOptions o = good;
  o.values.clear();
  CHECK(error_of(o).find("--values") != std::string::npos);
  o = good;
  o.target = 3;
  CHECK(error_of(o).find("--target") != std::string::npos);
  o = good;
  o.order = 3;
  CHECK(error_of(o).find("--order") != std::string::npos);
  o = good;
  o.temperatures = {1, 0};
  CHECK(error_of(o).find("temperature") != std::string::npos);

  CHECK(parse_floats(" 10, 8 ,-1.5,+2", "--values") == std::vector<float>{10, 8, -1.5f, 2});
  for (const char* bad : {"", "10,a", "1,,2", "1e999", "nan", "3,"})
    CHECK_THROWS_AS(parse_floats(bad, "--values"), mmx::Error);
}

TEST_CASE("mmx explore --json prints one object with the issue's keys") {
  const CliResult run = run_mmx("explore --values 10,8,-1 --json");
  REQUIRE(run.exit_code == 0);
  const nlohmann::json j = nlohmann::json::parse(run.output);
  CHECK(j.at("input") == nlohmann::json({10.0, 8.0, -1.0}));
  CHECK(j.at("eps") == 0.0);
  const auto& mappings = j.at("mappings");
  REQUIRE(mappings.size() == 7);
  CHECK(mappings[0].at("name") == "softmax");
  CHECK(mappings[0].at("temperature") == 0.5);
  for (const auto& m : mappings)
    for (const char* key : {"name", "p", "multimodality", "sparsity", "support"})
      CHECK(m.contains(key));
  CHECK(mappings[6].at("name") == "multimax");
  CHECK(mappings[6].at("sigma").size() == 3);
  CHECK(mappings[6].at("dsigma_dx").size() == 3);
  const auto& grad = j.at("grad");
  CHECK(grad.at("target") == 0);
  CHECK(grad.at("dx").size() == 3);
  CHECK(grad.at("dt").size() == 4);
  CHECK(grad.at("dr").size() == 4);
  CHECK(grad.at("loss").get<double>() > 0);
}

TEST_CASE("mmx explore: bad input exits non-zero with one clear line") {
  const char* cases[][2] = {
      {"explore --values 10,x,-1", "--values"},
      {"explore --values ''", "--values"},
      {"explore --t 1,2,3", "--t"},
      {"explore --r 1,2,3,4,5", "--r"},
      {"explore --target 3", "--target"},
      {"explore --target -1", "--target"},
      {"explore --target -7", "--target"},
      {"explore --values 1,2 --values-file x.txt", "--values"},
      {"explore --values-file /nonexistent/values.txt", "/nonexistent/values.txt"},
      {"explore --order 3", "--order"},
      {"explore --temperatures 1,-2", "temperature"},
  };
  for (const auto& [arguments, mention] : cases) {
    const CliResult run = run_mmx(arguments);
    INFO(arguments, " -> ", run.output);
    CHECK(run.exit_code != 0);
    CHECK(run.output.find(mention) != std::string::npos);
  }
}

TEST_CASE("mmx explore --plot writes the three figures") {
  ScratchDir dir("explore");
  const CliResult run = run_mmx("explore --plot " + dir.path.string());
  REQUIRE(run.exit_code == 0);
  for (const char* name : {"modulator.png", "simplex.png", "tradeoff.png"}) {
    const std::string path = (dir / name).string();
    CHECK(run.output.find(path) != std::string::npos);
    const mmx::plot::RgbImage image = mmx::plot::read_png(path);
    CHECK(image.width >= 800);
    CHECK(image.at(0, 0) == mmx::plot::colors::white);
  }
}

TEST_CASE("mmx explore --values-file reads text, JSON and stdin; errors name the line") {
  ScratchDir dir("explore_values_file");
  // 100,000 values: too many for a command line. Largest at index 0: the default target.
  std::string text = "1000\n", json = "[1000";
  for (int i = 1; i < 100000; ++i) {
    const std::string v = std::to_string((i % 997) * 0.01);
    text += v + ((i % 10 == 9) ? "\n" : (i % 2 ? ", " : " "));
    json += "," + v;
  }
  json += "]";
  auto write = [&](const char* name, const std::string& content) {
    const std::string path = (dir / name).string();
    std::FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
    return path;
  };
  const std::string text_path = write("values.txt", text), json_path = write("values.json", json);
  for (const std::string& arguments : {"--values-file " + text_path, "--values-file " + json_path,
                                       "--values-file - < " + text_path}) {
    CAPTURE(arguments);
    const CliResult run = run_mmx("explore --json --temperatures 1 " + arguments, false);
    REQUIRE(run.exit_code == 0);
    const nlohmann::json j = nlohmann::json::parse(run.output);
    CHECK(j.at("input").size() == 100000);
    CHECK(j.at("input")[0] == 1000.0);
    CHECK(j.at("grad").at("target") == 0);
    CHECK(j.at("grad").at("loss").is_number());
  }
  const char* bad[][2] = {
      {"1 2\n3 x4\n", "line 2: 'x4'"}, {"1\n\n1e999", "line 3: '1e999'"},
      {"1, nan", "line 1: 'nan'"},     {" \n ", "no numbers"},
      {"[1, \"a\"]", "element 1"},     {"[1, 2", "not a valid JSON array"},
  };
  for (const auto& [content, mention] : bad) {
    const CliResult run = run_mmx("explore --values-file " + write("bad.txt", content));
    INFO(content, " -> ", run.output);
    CHECK(run.exit_code != 0);
    CHECK(run.output.find(mention) != std::string::npos);
    CHECK(run.output.find("--values-file") != std::string::npos);
  }
}
