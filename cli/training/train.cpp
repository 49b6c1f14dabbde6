// `mmx train [--task lm|vit|mt]`: trains a character-level GPT (lm, the default), a Fashion-MNIST
// ViT (vit) or a German->English translator (mt), with a progress bar, a JSONL log of every
// evaluation, checkpoints after each, Ctrl-C saving, `--resume DIR`, and a loss-curve PNG.
#include <cstdio>
#include <optional>

#include "cli/command_registry.hpp"
#include "cli/threads.hpp"
#include "cli/training/train_flags.hpp"
#include "cli/training/train_session.hpp"
#include "engine/error.hpp"
#include "engine/io/directory_lock.hpp"
#include "nn/data/checkpoint.hpp"
#include "nn/distributed/communicator.hpp"

namespace mmx::cli {
namespace {

struct TrainCommand {
  int threads = 0;
  std::string task = "lm";
  std::string out;
  std::string resume;
  bool overwrite = false;
};

// The flags of the original command may be given again; only --steps may differ (upwards).
std::unique_ptr<nn::Trainer> resume_run(const CLI::App& cmd, const TrainCommand& c) {
  data::Checkpoint checkpoint = data::load_checkpoint(c.resume);
  const nn::SavedRun saved = nn::saved_run(checkpoint, c.resume);
  MMX_CHECK(cmd.count("--task") == 0 || c.task == saved.task, "train: --task ", c.task,
            " differs from the resumed run's ", saved.task,
            "; drop --task, or start a new run "
            "without --resume");
  const int64_t extend_to = resume_extension_from_flags(cmd, saved);
  std::unique_ptr<nn::Trainer> trainer =
      nn::resume_trainer(std::move(checkpoint), c.resume, extend_to);
  if (nn::distributed::world().is_main()) {
    if (extend_to > 0)
      std::fprintf(stderr, "extending %s (%s) from %ld to %ld steps at step %ld\n",
                   c.resume.c_str(), trainer->task(), saved.options.at("steps").get<int64_t>(),
                   extend_to, trainer->step());
    else
      std::fprintf(stderr, "resuming %s (%s) at step %ld of %ld\n", c.resume.c_str(),
                   trainer->task(), trainer->step(), trainer->total_steps());
  }
  return trainer;
}

// Under mpirun: how the global batch is shared, and what the gradient averaging cost.
void report_data_parallel(const nn::Trainer& trainer, int64_t steps_trained, double seconds) {
  nn::distributed::Communicator& comm = nn::distributed::world();
  if (comm.size() == 1 || steps_trained == 0) return;
  const double steps = static_cast<double>(steps_trained);
  std::printf(
      "data-parallel: %d ranks; per step and rank: %.3f MB allreduced, %.2f ms in "
      "collectives (%.1f%% of the training time); %.0f %s/s over all ranks\n",
      comm.size(), static_cast<double>(comm.bytes_sent()) / steps / 1e6,
      comm.seconds_in_collectives() / steps * 1e3, 100.0 * comm.seconds_in_collectives() / seconds,
      steps * trainer.items_per_step() / seconds, trainer.item_unit());
}

// Whether `out` is the directory `resume` names (however spelt).
bool same_directory(const std::filesystem::path& out, const std::string& resume) {
  std::error_code ec;
  return !resume.empty() && std::filesystem::equivalent(out, resume, ec);
}

// A run is never replaced by accident: another run in `out` is an error unless --overwrite.
void claim_run_directory(const std::filesystem::path& out, const TrainCommand& c) {
  if (same_directory(out, c.resume) || !nn::holds_run(out)) return;
  MMX_CHECK(c.overwrite, "train: ", out.string(),
            " holds a run (checkpoint.json or log.jsonl); continue it with --resume ", out.string(),
            ", replace it with --overwrite, or choose another --out");
  nn::remove_run(out);
}

void run_train(const CLI::App& cmd, const TrainCommand& c) {
  std::unique_ptr<nn::Trainer> trainer;
  std::filesystem::path out_dir = c.out;
  if (!c.resume.empty()) {
    trainer = resume_run(cmd, c);
    if (cmd.count("--out") == 0) out_dir = c.resume;
  } else {
    trainer = nn::make_trainer(
        c.task, options_from_flags(cmd, c.task, nn::default_trainer_options(c.task)));
    if (cmd.count("--out") == 0)
      out_dir =
          std::filesystem::path("runs") /
          (c.task == "lm" ? trainer->attention_name() : c.task + "-" + trainer->attention_name());
  }
  nn::distributed::Communicator& comm = nn::distributed::world();
  // Rank 0 alone writes the run directory (data-parallel ranks share it).
  std::optional<io::DirectoryLock> lock;
  if (comm.is_main()) {
    lock.emplace(out_dir, "train");
    claim_run_directory(out_dir, c);
    std::fprintf(stderr, "%s\n", trainer->describe().c_str());
    if (comm.size() > 1)
      std::fprintf(stderr, "data-parallel over %d ranks: each trains on 1/%d of every batch\n",
                   comm.size(), comm.size());
  }
  const int64_t first_step = trainer->step();
  const SessionResult r = train_with_progress(*trainer, out_dir, "train");
  if (!comm.is_main()) return;  // rank 0 alone writes the figure and the summary
  const std::filesystem::path png = out_dir / "loss.png", log = out_dir / "log.jsonl";
  // Stopped before its first evaluation, a run has nothing to draw yet.
  if (!nn::read_training_log(log).empty())
    write_loss_figure({{trainer->attention_name(), log}}, png, "Training and validation loss");
  if (r.last_eval) {
    std::printf("step %ld: val loss %.4f", r.last_eval->step, r.last_eval->val_loss);
    if (r.last_eval->metric)
      std::printf(", val %s %.2f", r.last_eval->metric->name.c_str(), r.last_eval->metric->value);
    std::printf("\ncheckpoint: %s\nlog: %s\nloss curves: %s\n", out_dir.c_str(), log.c_str(),
                png.c_str());
  }
  report_data_parallel(*trainer, trainer->step() - first_step, r.seconds);
}

const bool registered = register_command([](CLI::App& app) {
  auto c = std::make_shared<TrainCommand>();
  auto* cmd = app.add_subcommand(
      "train",
      "Train a character-level GPT (lm), a Fashion-MNIST ViT (vit) or a German->English "
      "translator (mt)");
  cmd->add_option("--task", c->task, "What to train: lm, vit or mt")
      ->capture_default_str()
      ->check(CLI::IsMember({"lm", "vit", "mt"}));
  std::map<std::string, nlohmann::json> defaults;
  for (const std::string& task : nn::trainer_tasks())
    defaults[task] = nn::default_trainer_options(task);
  add_train_flags(*cmd, defaults);
  add_threads_option(cmd, c->threads);
  cmd->add_option("--out", c->out,
                  "Output directory: checkpoint, log.jsonl, loss.png (default runs/<attn> for lm, "
                  "runs/<task>-<attn> otherwise)");
  cmd->add_option("--resume", c->resume,
                  "Continue the run saved in this directory (its flags may be repeated; a larger "
                  "--steps extends it)")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--overwrite", c->overwrite,
                "Replace the run already in --out (without it, a run there is an error)")
      ->excludes("--resume");
  cmd->callback([cmd, c] {
    apply_threads(c->threads);
    run_train(*cmd, *c);
  });
});

}  // namespace
}  // namespace mmx::cli
