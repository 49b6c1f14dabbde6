// `mmx demo`: the main job. Trains a SoftMax GPT and a MultiMax GPT of the same size on the same
// data, order and budget, then prints what each learned: validation loss, attention sparsity S
// and multi-modality M per layer, MultiMax's learned (t, r), a text sample from each, and where
// the checkpoints, logs, the loss-curve figure and the MultiMax model's modulator figure were
// written. --multimax-logits modulates the
// MultiMax model's output logits too (the official code's setup); the SoftMax model's never.
#include <array>
#include <cstdio>
#include <string>
#include <utility>

#include "cli/command_registry.hpp"
#include "cli/inspect/modulator_figures.hpp"
#include "cli/threads.hpp"
#include "cli/training/train_flags.hpp"
#include "cli/training/train_session.hpp"
#include "engine/error.hpp"
#include "engine/io/directory_lock.hpp"
#include "nn/layers/multimax_sites.hpp"
#include "nn/models/sampler.hpp"
#include "nn/tasks/lm/lm_trainer.hpp"

namespace mmx::cli {
namespace {

struct DemoCommand {
  nlohmann::json base;  // lm's options with the demo's budget
  int threads = 0;
  std::string out = "runs/demo";
  std::string prompt = "The ";
  int64_t sample_tokens = 300;
};

struct DemoRun {
  std::string name;
  std::filesystem::path dir;
  SessionResult result;
  std::string sample;
  std::string multimax_params;  // learned t and r per site; empty without MultiMax
};

// MultiMax's learned values, as nn::multimax_site_values gives them: a line for each site's t
// and one for its r, every head's four values in a row when the parameters are per head.
std::string describe_multimax(const nn::Module& model) {
  std::string out;
  char buf[160];
  for (const nn::MultiMaxSiteValues& site : nn::multimax_site_values(model))
    for (const auto& [letter, rows] : {std::pair{"t", &site.t}, std::pair{"r", &site.r}}) {
      std::snprintf(buf, sizeof buf, "  %-26s", cat(site.site, ".", letter).c_str());
      out += buf;
      for (const std::array<float, 4>& row : *rows)
        for (float x : row) {
          std::snprintf(buf, sizeof buf, " %+.3f", x);
          out += buf;
        }
      out += '\n';
    }
  return out;
}

void run_demo(const CLI::App& cmd, const DemoCommand& c) {
  apply_threads(c.threads);
  const nlohmann::json options = options_from_flags(cmd, "lm", c.base);
  const bool multimax_logits = options.at("model").at("multimax_logits").get<bool>();
  // One process at a time in the folder (as mmx train's run directory): two demos there would
  // write each other's runs and figure.
  const io::DirectoryLock lock(c.out, "demo");
  std::vector<DemoRun> runs;
  for (const char* kind : {"softmax", "multimax"}) {
    nlohmann::json run_options = options;
    const nn::AttentionKind attention = nn::parse_attention_kind(kind);
    nn::set_attention("lm", run_options, attention);
    run_options["model"]["multimax_logits"] =
        multimax_logits && attention == nn::AttentionKind::MultiMax;
    DemoRun run{kind, std::filesystem::path(c.out) / kind, {}, {}, {}};
    nn::LMTrainer trainer(run_options.get<nn::TrainOptions>());
    // The vocabulary is known once the corpus is read: a prompt it cannot spell fails now, not
    // after minutes of training.
    const std::vector<int64_t> prompt = nn::encode_prompt(trainer.tokenizer(), c.prompt);
    std::fprintf(stderr, "\n== %s attention: %ld parameters, %ld steps of %ld characters ==\n",
                 kind, trainer.model().parameter_count(), trainer.options().steps,
                 trainer.tokens_per_step());
    const io::DirectoryLock run_lock(run.dir, "demo");  // and each run's, as mmx train does
    run.result = train_with_progress(trainer, run.dir, kind);
    if (run.result.end == nn::TrainingEnd::interrupted) return;  // checkpoint saved; stop here
    trainer.model().eval();
    nn::SamplingOptions sampling;
    sampling.temperature = 0.8f;
    sampling.top_k = 0;
    Generator gen(trainer.options().seed);
    run.sample = c.prompt + trainer.tokenizer().decode(nn::generate(
                                trainer.model(), prompt, c.sample_tokens, sampling, gen));
    run.multimax_params = describe_multimax(trainer.model());  // empty for the SoftMax model
    runs.push_back(std::move(run));
  }

  const std::filesystem::path png = std::filesystem::path(c.out) / "loss.png";
  std::vector<std::pair<std::string, std::filesystem::path>> logs;
  for (const DemoRun& r : runs) logs.emplace_back(r.name, r.dir / "log.jsonl");
  write_loss_figure(logs, png, "SoftMax vs MultiMax attention: loss on the fortunes corpus");
  // What the MultiMax model learned, over the scores it saw (as `mmx modulators` draws it).
  const std::filesystem::path modulators_png = std::filesystem::path(c.out) / "modulators.png";
  write_modulator_figure(read_modulators(runs.back().dir.string(), "demo"), modulators_png);

  std::printf("\n%-9s %9s %9s %8s  %-28s %-28s\n", "attention", "val loss", "train", "time",
              "sparsity S per layer", "multi-modality M per layer");
  for (const DemoRun& r : runs) {
    const nn::EvalRecord& e = *r.result.last_eval;
    std::printf("%-9s %9.4f %9.4f %7.0fs  %-28s %-28s\n", r.name.c_str(), e.val_loss, e.train_loss,
                r.result.seconds, format_per_layer(e.sparsity).c_str(),
                format_per_layer(e.multimodality).c_str());
  }
  std::printf(
      "\n(S and M: the MultiMax paper's Definitions 3.2-3.3, averaged over the rows of a fixed\n"
      " validation batch, each row's relevance threshold eps = the mean of its scores.)\n");
  std::fputs(multimax_logits ? "Output logits: MultiMax-modulated in the multimax model "
                               "(--multimax-logits,\n as the official code does), plain in the "
                               "softmax model.\n"
                             : "Output logits: plain in both models (--multimax-logits "
                               "modulates the multimax\n model's, as the official code does).\n",
             stdout);
  for (const DemoRun& r : runs)
    if (!r.multimax_params.empty())
      std::printf("\nMultiMax learned (t0..t3 then r0..r3 per layer):\n%s",
                  r.multimax_params.c_str());
  for (const DemoRun& r : runs)
    std::printf("\n--- sample from the %s model (temperature 0.8) ---\n%s\n", r.name.c_str(),
                r.sample.c_str());
  std::printf("\ncheckpoints and logs: ");
  for (const DemoRun& r : runs) std::printf("%s/ ", r.dir.c_str());
  std::printf("\nloss curves: %s\n", png.c_str());
  std::printf("MultiMax's learned modulators over the scores they saw: %s\n",
              modulators_png.c_str());
}

const bool registered = register_command([](CLI::App& app) {
  auto c = std::make_shared<DemoCommand>();
  // A budget that trains each model in about two minutes on 2 cores.
  c->base = nn::default_trainer_options("lm");
  c->base["steps"] = 800;
  c->base["warmup"] = 50;
  c->base["eval_interval"] = 100;
  auto* cmd = app.add_subcommand(
      "demo", "Train a SoftMax GPT and a MultiMax GPT side by side on the fortunes and compare");
  add_train_flags(*cmd, {{"lm", c->base}}, {"--attn"});  // the demo trains both normalizers
  add_threads_option(cmd, c->threads);
  cmd->add_option("--out", c->out, "Output directory (one folder per model)")
      ->capture_default_str();
  cmd->add_option("--prompt", c->prompt, "Prompt of the text samples")->capture_default_str();
  cmd->add_option("--sample-tokens", c->sample_tokens, "Characters to sample from each model")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  cmd->callback([cmd, c] { run_demo(*cmd, *c); });
});

}  // namespace
}  // namespace mmx::cli
