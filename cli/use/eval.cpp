// `mmx eval --ckpt DIR [--beam K]`: the scores of a trained run on its task's test split -- vit:
// accuracy on the 10k Fashion-MNIST test images; mt: chrF and exact match of greedy (and, with
// --beam K, beam-search) translations; lm: loss over the validation split.
#include <chrono>
#include <cstdio>

#include "cli/command_registry.hpp"
#include "cli/threads.hpp"
#include "engine/error.hpp"
#include "nn/tasks/trainer.hpp"

namespace mmx::cli {
namespace {

struct EvalCommand {
  std::string checkpoint;
  int64_t beam = 0;
  int64_t limit = 0;
  int threads = 0;
};

void run_eval(const EvalCommand& c) {
  apply_threads(c.threads);
  std::unique_ptr<nn::Trainer> trainer = nn::resume_trainer(c.checkpoint);
  MMX_CHECK(c.beam == 0 || std::string(trainer->task()) == "mt",
            "eval: --beam applies to mt "
            "checkpoints; ",
            c.checkpoint, " holds a '", trainer->task(), "' run");
  std::printf("checkpoint %s: %s, step %ld, %s attention\n", c.checkpoint.c_str(), trainer->task(),
              trainer->step(), trainer->attention_name().c_str());
  const auto start = std::chrono::steady_clock::now();
  const std::vector<nn::TaskMetric> metrics = trainer->test({.beam = c.beam, .limit = c.limit});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const nn::TaskMetric& m : metrics) std::printf("test %s: %.2f\n", m.name.c_str(), m.value);
  std::fflush(stdout);
  std::fprintf(stderr, "(evaluated in %.1f s)\n", seconds);
}

const bool registered = register_command([](CLI::App& app) {
  auto c = std::make_shared<EvalCommand>();
  auto* cmd = app.add_subcommand("eval", "Score a trained run on its task's test split");
  cmd->add_option("--ckpt", c->checkpoint, "Checkpoint directory (mmx train's --out)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--beam", c->beam, "mt: also decode with beam search of this width (> 1)")
      ->check(CLI::Range(int64_t{0}, int64_t{64}));
  cmd->add_option("--limit", c->limit, "Score only the first N test items (0: all)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{100000000}));
  add_threads_option(cmd, c->threads);
  cmd->callback([c] { run_eval(*c); });
});

}  // namespace
}  // namespace mmx::cli
