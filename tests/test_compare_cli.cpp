// `mmx compare` as a user runs it: every (attention, seed) run lands in its own folder, the table
// names each kind, compare.json's summary is the mean of its runs, the curves are a PNG, and bad
// input gets one clear line and a non-zero exit before any training.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/random.hpp"
#include "mmx_cli.hpp"
#include "nn/tasks/trainer.hpp"
#include "plot/png_io.hpp"
#include "scratch_dir.hpp"
#include "tiny_task_data.hpp"

TEST_CASE("mmx compare: lm runs per attention and seed, table, JSON and curves; bad input") {
  ScratchDir dir("compare-cli");
  {
    std::ofstream out(dir / "corpus.txt");
    mmx::Generator gen(6);
    const char* words[] = {"red ", "green ", "blue\n", "cyan, "};
    for (int i = 0; i < 2000; ++i) out << words[gen.below(4)];
  }
  // The training flags are mmx train's (cli/training/train_flags.hpp's table).
  const std::string tiny = " --data " + (dir / "corpus.txt").string() +
                           " --d-model 16 --layers 2 --heads 2 --seq 16 --batch 4 --eval-batch 4"
                           " --threads 1";
  const std::string out = (dir / "cmp").string();
  const CliResult r = run_mmx(
      "compare --attn softmax,sparsemax --seeds 2 --steps 6 "
      "--eval-interval 3 --out " +
      out + tiny);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("mean ± sample std over 2 seeds") != std::string::npos);
  for (const char* kind : {"\nsoftmax ", "\nsparsemax "}) {
    CAPTURE(kind);
    CHECK(r.output.find(kind) != std::string::npos);  // a table row starts with the kind
  }

  std::ifstream json_file(out + "/compare.json");
  REQUIRE(json_file.good());
  const nlohmann::json j = nlohmann::json::parse(json_file);
  CHECK(j.at("task") == "lm");
  CHECK(j.at("options").at("steps") == 6);
  REQUIRE(j.at("runs").size() == 4);
  REQUIRE(j.at("summary").size() == 2);
  for (const nlohmann::json& s : j.at("summary")) {
    const std::string kind = s.at("attention");
    CAPTURE(kind);
    double sum = 0;
    std::vector<double> losses;
    for (const nlohmann::json& run : j.at("runs"))
      if (run.at("attention") == kind) {
        const double loss = run.at("final").at("val_loss");
        losses.push_back(loss);
        sum += loss;
        CHECK(run.at("final").at("step") == 6);
        CHECK(std::filesystem::exists(std::filesystem::path(run.at("dir").get<std::string>()) /
                                      "log.jsonl"));
      }
    REQUIRE(losses.size() == 2);
    CHECK(s.at("val_loss").at("n") == 2);
    CHECK(s.at("val_loss").at("mean").get<double>() == doctest::Approx(sum / 2));
    CHECK(s.at("val_loss").at("std").get<double>() ==
          doctest::Approx(std::abs(losses[0] - losses[1]) / std::sqrt(2.0)));
    CHECK(losses[0] != losses[1]);                  // the seeds differ
    CHECK(s.at("attention_sparsity").size() == 2);  // one S per layer
    CHECK(s.at("ms_per_step").at("mean").get<double>() > 0);
  }
  // Over-smoothing per block, beside S and M.
  CHECK(r.output.find("cos per block") != std::string::npos);
  for (const nlohmann::json& run : j.at("runs")) {
    CHECK(run.at("final").at("blocks") == nlohmann::json::array({"0", "1"}));
    for (double v : run.at("final").at("token_similarity")) {
      CHECK(v >= -1);
      CHECK(v <= 1);
    }
  }
  // SparseMax paired with SoftMax, seed by seed: the mean of the per-seed differences, an
  // interval around it, a p-value from the 4 sign patterns of 2 seeds, the verdict in words.
  CHECK(r.output.find("paired with softmax, seed by seed") != std::string::npos);
  CHECK(r.output.find("\nsparsemax  val loss") != std::string::npos);
  CHECK(r.output.find("exact over all 2^2 sign patterns") != std::string::npos);
  const nlohmann::json& paired = j.at("paired");
  CHECK(paired.at("baseline") == "softmax");
  REQUIRE(paired.at("arms").size() == 1);
  const nlohmann::json& arm = paired.at("arms")[0];
  CHECK(arm.at("attention") == "sparsemax");
  std::vector<double> differences(2, 0.0);
  for (const nlohmann::json& run : j.at("runs"))
    differences[run.at("seed").get<size_t>()] += (run.at("attention") == "sparsemax" ? 1.0 : -1.0) *
                                                 run.at("final").at("val_loss").get<double>();
  const nlohmann::json& loss = arm.at("val_loss");
  CHECK(loss.at("n") == 2);
  CHECK(loss.at("mean").get<double>() == doctest::Approx((differences[0] + differences[1]) / 2));
  const double low = loss.at("interval")[0], high = loss.at("interval")[1];
  CHECK(low <= loss.at("mean").get<double>());
  CHECK(high >= loss.at("mean").get<double>());
  // Two seeds: the two differences agree in sign (p = 0.5) or not (p = 1).
  const double p = loss.at("p_value");
  CHECK((p == 0.5 || p == 1.0));
  CHECK(loss.at("p_exact") == true);
  CHECK(loss.at("verdict") == (low <= 0 && high >= 0 ? "no difference in these runs"
                               : low > 0             ? "higher than softmax"
                                                     : "lower than softmax"));
  CHECK(r.output.find(loss.at("verdict").get<std::string>()) != std::string::npos);

  for (const char* run : {"softmax-seed0", "softmax-seed1", "sparsemax-seed0", "sparsemax-seed1"}) {
    CAPTURE(run);
    CHECK(std::filesystem::exists(dir / "cmp" / run / "checkpoint.json"));
  }
  const mmx::plot::RgbImage curves = mmx::plot::read_png(out + "/compare_curves.png");
  CHECK(curves.width >= 700);
  CHECK(r.output.find(out + "/compare_curves.png") != std::string::npos);

  struct Case {
    std::string arguments;
    std::string expected;
  };
  const std::string bad_out = " --out " + (dir / "bad").string();
  const std::vector<Case> cases = {
      {"--attn softmax,bogus", "bogus"},
      {"--attn softmax,softmax", "twice"},
      {"--attn softmax,", "empty name"},
      {"--seeds 0", "--seeds: '0' is not a whole number from 1 to 1000"},
      {"--steps 0", "--steps"},
      {"--task nope", "nope"},
      {"--patch 4", "--patch does not apply to --task lm (it is a flag of --task vit)"},
      {"--warmup 300", "--warmup must lie in [0, --steps), got 300 with --steps 300"},
      {"--seed 3", "--seed"},  // compare runs the seeds 0..--seeds-1
  };
  for (const Case& c : cases) {
    CAPTURE(c.arguments);
    const CliResult bad = run_mmx("compare" + tiny + " " + c.arguments + bad_out);
    CHECK(bad.exit_code != 0);
    CHECK(bad.output.find(c.expected) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / "bad"));  // refused before any training
  }
}

TEST_CASE("mmx compare: multimax+logits is its own arm, in every task it is run with") {
  ScratchDir dir("compare-logits");
  struct Case {
    std::string task;
    std::string data;  // the task's flags for tiny generated data
    std::string arms;  // mt adds softmax, to pair the others with it
  };
  const std::vector<Case> cases = {
      {"lm",
       " --data " +
           write_word_corpus(dir / "corpus.txt", 6, {"red ", "green ", "blue\n"}, 2000).string() +
           " --seq 16",
       "multimax,multimax+logits"},
      {"mt",
       " --data " + write_tiny_phrase_file(dir / "phrases.txt").string() +
           " --max-chars 24 --eval-batch 4",
       "softmax,multimax,multimax+logits"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.task);
    const std::filesystem::path out = dir / c.task;
    const CliResult r = run_mmx("compare --task " + c.task + c.data + " --attn " + c.arms +
                                " --seeds 1 --steps 2"
                                " --d-model 16 --layers 1 --heads 2 --batch 4 --threads 1 --out " +
                                out.string());
    REQUIRE(r.exit_code == 0);
    struct Arm {
      std::string name;
      bool logits;
    };
    for (const Arm& arm : {Arm{"multimax", false}, Arm{"multimax+logits", true}}) {
      CAPTURE(arm.name);
      CHECK(r.output.find("\n" + arm.name + " ") != std::string::npos);  // its own table row
      const mmx::nn::SavedRun run = mmx::nn::read_saved_run(out / (arm.name + "-seed0"));
      CHECK(run.options.at("model").at("multimax_logits") == arm.logits);
    }
    if (c.task == "lm") {
      // Without a softmax arm nothing is paired, and the output says so.
      CHECK(r.output.find("no paired differences: they need a softmax arm") != std::string::npos);
    } else {
      // One seed: each arm's difference in loss and chrF, and no interval, said plainly.
      CHECK(r.output.find("multimax+logits  chrF") != std::string::npos);
      CHECK(r.output.find("none (one seed)") != std::string::npos);
      CHECK(r.output.find("one seed: a single difference has no spread") != std::string::npos);
      std::ifstream json_file(out / "compare.json");
      const nlohmann::json paired = nlohmann::json::parse(json_file).at("paired");
      CHECK(paired.at("metric") == "chrF");
      REQUIRE(paired.at("arms").size() == 2);
      for (const nlohmann::json& arm : paired.at("arms")) {
        CHECK(arm.at("val_loss").at("interval").is_null());
        CHECK(arm.at("metric").at("verdict") == "one seed: no interval, cannot tell");
      }
      // The mt blocks: encoder, then decoder; cross-attention has no block of its own.
      std::ifstream run_json(out / "compare.json");
      CHECK(nlohmann::json::parse(run_json).at("summary")[0].at("blocks") ==
            nlohmann::json::array({"enc.0", "dec.0"}));
    }
  }

  const std::string tiny = " --data " + (dir / "corpus.txt").string() +
                           " --seq 16 --d-model 16 --layers 1 --heads 2 --batch 4 --threads 1"
                           " --out " +
                           (dir / "bad").string();
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"--attn multimax+logits,multimax+logits", "multimax+logits twice"},
      {"--attn bogus+logits", "bogus"},
      {"--multimax-logits", "--multimax-logits"},  // an arm's +logits says it per arm
  };
  for (const auto& [arguments, expected] : bad) {
    CAPTURE(arguments);
    const CliResult r = run_mmx("compare " + arguments + tiny);
    CHECK(r.exit_code != 0);
    CHECK(r.output.find(expected) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / "bad"));
  }
}
