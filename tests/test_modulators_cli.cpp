// `mmx modulators` and `mmx explore --ckpt` as a user runs them, on tiny runs of the three
// tasks: the figure, the piece fractions in text and JSON, the (t, r) paths from log.jsonl, and
// bad input (a model without MultiMax, a layer or head out of range, --ckpt with --t, an old
// log) ending in one line and a non-zero exit. Also checks cli/inspect/modulator_report.cpp
// directly: the pieces of hand-made (t, r) and the share of hand-made scores on each.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "cli/inspect/modulator_report.hpp"
#include "mmx_cli.hpp"
#include "nn/tasks/training_loop.hpp"
#include "scratch_dir.hpp"
#include "tiny_task_data.hpp"

using mmx::cli::modulator_pieces;
using mmx::cli::ModulatorPiece;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string tiny_lm(const ScratchDir& dir, const std::string& out, const std::string& extra) {
  const std::filesystem::path corpus = write_word_corpus(
      dir / "corpus.txt", 5, {"red ", "green ", "blue\n", "cyan, ", "pink. "}, 3000);
  return command_line(tiny_train_args(corpus, dir / out, 20, 10)) + " --layers 2 " + extra;
}

nlohmann::json json_of(const CliResult& r) {
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.output);
}

// A bad input ends in a non-zero exit and one error line on stderr that holds `expected`
// ("mmx: error: ..."; CLI11's own checks write theirs and its "Run with --help" hint).
void check_error(const std::string& arguments, const std::string& expected) {
  const CliResult r = run_mmx_stderr(arguments);
  INFO(arguments, "\n", r.output);
  CHECK(r.exit_code != 0);
  std::vector<std::string> lines;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line.find("--help") == std::string::npos) lines.push_back(line);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(expected) != std::string::npos);
}

double fraction_sum(const nlohmann::json& site) {
  double sum = 0;
  for (const auto& p : site.at("pieces")) sum += p.at("fraction").get<double>();
  return sum;
}

}  // namespace

TEST_CASE("modulator_pieces: hand-made scores on hand-made (t, r), order 2") {
  // Breakpoints r0 = -1, r1 = 1, r2 = 0, r3 = 2 cut the line into five pieces.
  const std::array<float, 4> t{-0.5f, 0.5f, -0.25f, 0.25f}, r{-1.0f, 1.0f, 0.0f, 2.0f};
  // -1 and 0 sit exactly on breakpoints: each counts in the piece above it.
  const std::vector<float> scores{-3.0f, -1.5f, -1.0f, -0.5f, 0.0f, 0.5f, 1.5f, 2.5f, 3.0f};
  const std::vector<ModulatorPiece> p = modulator_pieces(t, r, 2, scores);
  REQUIRE(p.size() == 5);
  CHECK(p[0].low == -kInf);
  CHECK(p[0].high == -1.0);
  CHECK(p[4].low == 2.0);
  CHECK(p[4].high == kInf);
  CHECK(p[0].active == std::vector<std::string>{"t0", "t2"});  // below r0 and r2
  CHECK(p[1].active == std::vector<std::string>{"t2"});        // below r2 only
  CHECK(p[2].active.empty());                                  // the identity
  CHECK(p[3].active == std::vector<std::string>{"t1"});        // above r1
  CHECK(p[4].active == std::vector<std::string>{"t1", "t3"});  // above r1 and r3
  const std::vector<int64_t> counts{2, 2, 2, 1, 2};
  for (size_t i = 0; i < p.size(); ++i) {
    CHECK(p[i].count == counts[i]);
    CHECK(p[i].fraction == doctest::Approx(counts[i] / 9.0));
  }
  // Piece 0: x = -3: -0.5*2 - 0.25*9 = -3.25; x = -1.5: -0.5*0.5 - 0.25*2.25 = -0.8125.
  CHECK(p[0].mean_shift == doctest::Approx((-3.25 - 0.8125) / 2));
  // Piece 2 is the identity: no shift.
  CHECK(p[2].mean_shift == doctest::Approx(0.0));
  // Piece 4: x = 2.5: 0.5*1.5 + 0.25*0.25 = 0.8125; x = 3: 0.5*2 + 0.25*1 = 1.25.
  CHECK(p[4].mean_shift == doctest::Approx((0.8125 + 1.25) / 2));
}

TEST_CASE("modulator_pieces: order 1 reads r0, r1 only, and equal breakpoints merge") {
  // r2, r3 lie among the scores but order 1 ignores them.
  const std::vector<ModulatorPiece> p = modulator_pieces(
      {1.0f, 1.0f, 5.0f, 5.0f}, {0.5f, 0.5f, -2.0f, 3.0f}, 1, {-1.0f, 0.0f, 0.5f, 2.0f});
  REQUIRE(p.size() == 2);
  CHECK(p[0].active == std::vector<std::string>{"t0"});
  CHECK(p[1].active == std::vector<std::string>{"t1"});
  CHECK(p[0].count == 2);
  CHECK(p[1].count == 2);  // 0.5 is on the breakpoint: the piece above
  CHECK(p[0].fraction == doctest::Approx(0.5));
  // No scores: the pieces, all empty.
  const std::vector<ModulatorPiece> none = modulator_pieces({}, {0, 1, 2, 3}, 2, {});
  CHECK(none.size() == 5);
  for (const ModulatorPiece& q : none) CHECK(q.fraction == 0.0);
}

TEST_CASE("visible_scores: leaves out the future of a causal row and masked keys") {
  mmx::nn::AttentionMap map;
  // [B 1, H 2, T 2, S 2]: head 0 holds 1 2 / 3 4, head 1 holds 5 6 / 7 8.
  map.scores = mmx::Tensor::from_data({1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 2, 2});
  map.causal = true;
  std::vector<std::vector<float>> s = mmx::cli::visible_scores(map);
  CHECK(s == std::vector<std::vector<float>>{{1, 3, 4}, {5, 7, 8}});
  map.causal = false;
  const float inf = std::numeric_limits<float>::infinity();
  map.mask = mmx::Tensor::from_data({0, -inf}, {1, 1, 1, 2});  // the second key is padding
  s = mmx::cli::visible_scores(map);
  CHECK(s == std::vector<std::vector<float>>{{1, 3}, {5, 7}});
}

TEST_CASE("modulators and explore --ckpt on an lm run") {
  ScratchDir dir("modulators-lm");
  const std::string run = (dir / "run").string();
  REQUIRE(run_mmx(tiny_lm(dir, "run", "--attn multimax")).exit_code == 0);

  // The log records every site's (t, r) at each evaluation.
  const std::vector<nlohmann::json> log = mmx::nn::read_training_log(dir / "run" / "log.jsonl");
  REQUIRE(log.size() == 2);
  const nlohmann::json& last = log.back().at("multimax");
  REQUIRE(last.size() == 2);
  CHECK(last[0].at("site") == "blocks.0.attn.multimax");
  CHECK(last[1].at("t").size() == 1);  // one set shared by the heads

  const CliResult text = run_mmx("modulators --ckpt " + run);
  INFO(text.output);
  REQUIRE(text.exit_code == 0);
  CHECK(text.output.find("layer 1 (one (t, r) for its 2 heads)") != std::string::npos);
  CHECK(text.output.find("figure: " + run + "/modulators.png") != std::string::npos);
  CHECK(std::filesystem::file_size(dir / "run" / "modulators.png") > 10000);

  const nlohmann::json j = json_of(run_mmx(
      "modulators --json --ckpt " + run + " --out " + (dir / "figs" / "m.png").string(), false));
  CHECK(std::filesystem::exists(dir / "figs" / "m.png"));
  REQUIRE(j.at("sites").size() == 2);
  for (const auto& site : j.at("sites")) {
    CHECK(fraction_sum(site) == doctest::Approx(1.0));
    CHECK(site.at("pieces").size() == 5);  // order 2: four breakpoints
    // Windows of 16 characters, causal: 16 x 17 / 2 = 136 scores per window and head.
    CHECK(site.at("scores").get<int64_t>() % 136 == 0);
  }
  // The figure's (t, r) are the checkpoint's, as logged at its last evaluation.
  for (size_t k = 0; k < 4; ++k)
    CHECK(j["sites"][0]["t"][k].get<float>() == last[0]["t"][0][k].get<float>());

  const nlohmann::json paths =
      json_of(run_mmx("modulators --trajectory --json --ckpt " + run, false));
  // The paths start from the initial (t, r), rebuilt from the run's seed: a truncated N(0, 0.02)
  // draw within +-0.04, which the log (first written at step 10) does not hold.
  CHECK(paths.at("first_step") == 0);
  CHECK(paths.at("last_step") == 20);
  REQUIRE(paths.at("sites").size() == 2);
  for (const auto& site : paths.at("sites"))
    for (const char* key : {"t_first", "r_first"})
      for (const auto& v : site.at(key)) CHECK(std::abs(v.get<double>()) <= 0.04);
  CHECK(paths["sites"][0].at("t_last") == last[0]["t"][0]);
  CHECK(paths["sites"][0].at("largest_change").get<double>() > 0);
  CHECK(std::filesystem::file_size(dir / "run" / "modulator_paths.png") > 10000);

  // explore with layer 1's trained (t, r), in the three forms.
  const nlohmann::json e = json_of(run_mmx("explore --json --ckpt " + run + " --layer 1", false));
  CHECK(e.at("trained").at("layer") == "1");
  CHECK(e.at("trained").at("t") == j["sites"][1]["t"]);
  const CliResult explore_text =
      run_mmx("explore --ckpt " + run + " --layer 1 --plot " + (dir / "plots").string());
  CHECK(explore_text.exit_code == 0);
  CHECK(explore_text.output.find("MultiMax of layer 1 of " + run) != std::string::npos);
  CHECK(std::filesystem::exists(dir / "plots" / "modulator.png"));

  // Bad input.
  check_error("explore --ckpt " + run + " --layer 2", "--layer 2 is out of range");
  check_error("explore --ckpt " + run + " --layer 2", "MultiMax layers 0..1");
  check_error("explore --ckpt " + run + " --head 2",
              "--head 2 is out of range; layer 0 has heads 0..1");
  check_error("explore --ckpt " + run + " --t 1,1,1,1", "--t and --ckpt both set MultiMax");
  check_error("explore --ckpt " + run + " --order 1", "--order and --ckpt both set MultiMax");
  check_error("explore --layer 1", "--layer picks a site of a trained model; give --ckpt DIR");
  check_error("explore --ckpt " + run + " --site cross", "drop --site");
  check_error("modulators --ckpt " + (dir / "nowhere").string(), "--ckpt");
  check_error("modulators --ckpt " + run + " --out /proc/mmx-no/m.png", "cannot create the folder");
}

TEST_CASE("modulators: per-head (t, r) give a panel per head; bad runs give one line") {
  ScratchDir dir("modulators-bad");
  const std::string per_head = (dir / "per-head").string();
  REQUIRE(run_mmx(tiny_lm(dir, "per-head",
                          "--attn multimax --multimax-per-head "
                          "--multimax-order 1"))
              .exit_code == 0);
  const nlohmann::json j = json_of(run_mmx("modulators --json --ckpt " + per_head, false));
  REQUIRE(j.at("sites").size() == 4);  // 2 layers x 2 heads
  CHECK(j["sites"][3].at("head") == 1);
  CHECK(j["sites"][3].at("pieces").size() == 3);  // order 1: two breakpoints
  const nlohmann::json e =
      json_of(run_mmx("explore --json --ckpt " + per_head + " --layer 1 --head 1", false));
  CHECK(e.at("trained").at("t") == j["sites"][3]["t"]);
  CHECK(e.at("trained").at("order") == 1);

  // A log written before (t, r) were logged: the same run with the field dropped.
  const std::filesystem::path log = dir / "per-head" / "log.jsonl";
  std::vector<nlohmann::json> records = mmx::nn::read_training_log(log);
  {
    std::ofstream out(log);
    for (nlohmann::json& r : records) {
      r.erase("multimax");
      out << r.dump() << "\n";
    }
  }
  check_error("modulators --trajectory --ckpt " + per_head,
              "was written before the training log recorded MultiMax's (t, r)");

  const std::string softmax = (dir / "softmax").string();
  REQUIRE(run_mmx(tiny_lm(dir, "softmax", "--attn softmax")).exit_code == 0);
  check_error("modulators --ckpt " + softmax, "has no MultiMax attention (softmax)");
  check_error("explore --ckpt " + softmax, "has no MultiMax attention (softmax)");
  check_error("modulators --trajectory --ckpt " + softmax, "has no MultiMax");
  std::filesystem::remove(dir / "softmax" / "log.jsonl");
  check_error("modulators --trajectory --ckpt " + softmax, "log.jsonl, which does not exist");
}

TEST_CASE("modulators and explore --ckpt on vit and mt runs") {
  ScratchDir dir("modulators-tasks");
  write_tiny_image_set(dir / "images");
  const std::string small =
      " --steps 8 --eval-interval 4 --warmup 1 --threads 1 --d-model 16"
      " --heads 2 --layers 1";
  const std::string vit = (dir / "vit").string();
  REQUIRE(run_mmx("train --task vit --attn multimax --data " + (dir / "images").string() +
                  " --patch 4 --batch 16 --eval-batch 40 --out " + vit + small)
              .exit_code == 0);
  const nlohmann::json v = json_of(run_mmx("modulators --json --ckpt " + vit, false));
  REQUIRE(v.at("sites").size() == 1);
  CHECK(v.at("task") == "vit");
  CHECK(fraction_sum(v["sites"][0]) == doctest::Approx(1.0));
  // Every query sees every patch: 40 images x 2 heads x 4 x 4 patch pairs.
  CHECK(v["sites"][0].at("scores") == 40 * 2 * 16);
  CHECK(run_mmx("explore --ckpt " + vit + " --layer 0").exit_code == 0);
  check_error("explore --ckpt " + vit + " --layer 1", "MultiMax layers 0..0");

  const std::string mt = (dir / "mt").string();
  REQUIRE(run_mmx("train --task mt --data " + write_tiny_phrase_file(dir / "phrases.txt").string() +
                  " --batch 8 --eval-batch 8 --max-chars 24 --enc-attn multimax --out " + mt +
                  small)
              .exit_code == 0);
  const CliResult m = run_mmx("modulators --ckpt " + mt);
  INFO(m.output);
  CHECK(m.exit_code == 0);
  CHECK(m.output.find("encoder self-attention, layer 0") != std::string::npos);
  const nlohmann::json e =
      json_of(run_mmx("explore --json --ckpt " + mt + " --site encoder --layer 0", false));
  CHECK(e.at("trained").at("layer") == "enc.0");
  check_error("explore --ckpt " + mt, "name its attention with --site encoder|decoder|cross");
  check_error("explore --ckpt " + mt + " --site cross",
              "the cross attention of the model in " + mt + " has no MultiMax");
  check_error("explore --ckpt " + mt + " --site sideways", "--site");
}
