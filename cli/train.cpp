// `mmx train`: trains a character-level GPT, with a progress bar, a JSONL log of every
// evaluation, checkpoints after each, Ctrl-C saving, `--resume DIR`, and a loss-curve PNG.
#include <cstdio>

#include "cli/command_registry.hpp"
#include "cli/train_flags.hpp"
#include "cli/train_session.hpp"
#include "engine/error.hpp"

namespace mmx::cli {
namespace {

struct TrainCommand {
  TrainFlags flags;
  std::string out;
  std::string resume;
};

void run_train(CLI::App& cmd, const TrainCommand& c) {
  std::unique_ptr<nn::LMTrainer> trainer;
  std::filesystem::path out_dir = c.out;
  if (!c.resume.empty()) {
    for (const std::string& flag : run_defining_flags())
      MMX_CHECK(cmd.count(flag) == 0, "train: ", flag,
                " cannot change a resumed run (its options come from the checkpoint); drop it, "
                "or start a new run without --resume");
    trainer = nn::LMTrainer::resume(c.resume);
    if (cmd.count("--out") == 0) out_dir = c.resume;
    std::fprintf(stderr, "resuming %s at step %ld of %ld\n", c.resume.c_str(), trainer->step(),
                 trainer->total_steps());
  } else {
    trainer = std::make_unique<nn::LMTrainer>(c.flags.resolved());
    if (cmd.count("--out") == 0) out_dir = std::filesystem::path("runs") / c.flags.attention;
  }
  std::fprintf(stderr, "%s\n", trainer->describe().c_str());
  const SessionResult r = train_with_progress(*trainer, out_dir, "train");
  const std::filesystem::path png = out_dir / "loss.png";
  write_loss_figure({{trainer->attention_name(), out_dir / "log.jsonl"}}, png,
                    "Training and validation loss");
  if (r.last_eval)
    std::printf("step %ld: val loss %.4f\ncheckpoint: %s\nlog: %s\nloss curves: %s\n",
                r.last_eval->step, r.last_eval->val_loss, out_dir.c_str(),
                (out_dir / "log.jsonl").c_str(), png.c_str());
}

const bool registered = register_command([](CLI::App& app) {
  auto c = std::make_shared<TrainCommand>();
  auto* cmd = app.add_subcommand("train", "Train a character-level GPT on a text corpus");
  add_train_flags(*cmd, c->flags);
  cmd->add_option("--out", c->out, "Output directory: checkpoint, log.jsonl, loss.png (default runs/<attn>)");
  cmd->add_option("--resume", c->resume, "Continue the run saved in this directory")
      ->check(CLI::ExistingDirectory);
  cmd->callback([cmd, c] {
    apply_threads(c->flags.threads);
    run_train(*cmd, *c);
  });
});

}  // namespace
}  // namespace mmx::cli
