// `mmx demo` as a user runs it, on a tiny generated corpus: a SoftMax and a MultiMax GPT side by
// side, and a report that says whether the output logits were modulated; --multimax-logits
// modulates the MultiMax model's alone (the SoftMax model is the plain baseline); the MultiMax
// model's modulator figure is written and named.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "mmx_cli.hpp"
#include "nn/tasks/trainer.hpp"
#include "scratch_dir.hpp"
#include "tiny_task_data.hpp"

TEST_CASE("mmx demo: the report says whether the output logits are modulated") {
  ScratchDir dir("demo-cli");
  const std::string corpus =
      write_word_corpus(dir / "corpus.txt", 3, {"red ", "green ", "blue\n"}, 2000).string();
  struct Case {
    std::string flag;
    std::string report;    // the report's line on the output logits
    bool multimax_logits;  // of the multimax model; the softmax model's is always false
  };
  const std::vector<Case> cases = {
      {"", "Output logits: plain in both models", false},
      {" --multimax-logits", "Output logits: MultiMax-modulated in the multimax model", true},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    CAPTURE(c.flag);
    const std::filesystem::path out = dir / ("out" + std::to_string(i));
    const CliResult r = run_mmx("demo --data " + corpus + c.flag +
                                " --steps 2 --warmup 1 --eval-interval 2 --d-model 16 --layers 1"
                                " --heads 2 --seq 16 --batch 2 --eval-batch 2 --sample-tokens 4"
                                " --prompt red --threads 1 --out " +
                                out.string());
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find(c.report) != std::string::npos);
    // The learned (t, r) the report lists: the output logits' set only when they are modulated.
    CHECK((r.output.find("head_multimax.t") != std::string::npos) == c.multimax_logits);
    const auto logits = [&](const char* model) {
      return mmx::nn::read_saved_run(out / model).options.at("model").at("multimax_logits");
    };
    CHECK(logits("softmax") == false);
    CHECK(logits("multimax") == c.multimax_logits);
    // The MultiMax model's modulator figure, named in the report.
    const std::filesystem::path figure = out / "modulators.png";
    CHECK(r.output.find("over the scores they saw: " + figure.string()) != std::string::npos);
    CHECK(std::filesystem::file_size(figure) > 10000);
  }
}
