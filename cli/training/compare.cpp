// `mmx compare`: trains one task with each attention normalizer over the same seeds -- so a seed
// gives every normalizer the same initial-weight seed, data order and budget -- then prints the
// final validation loss / task metric (mean ± spread over seeds), time per step, attention S and
// M per layer and the token similarity per block; then each arm's paired difference with SoftMax
// seed by seed (interval and p-value); and writes compare.json and a figure of the validation
// curves. An arm
// "multimax+logits" also modulates the output logits, so the official code's full setup runs
// beside plain MultiMax attention.
#include <algorithm>
#include <cstdio>
#include <string_view>

#include "cli/command_registry.hpp"
#include "cli/threads.hpp"
#include "cli/training/compare_figure.hpp"
#include "cli/training/compare_paired.hpp"
#include "cli/training/compare_summary.hpp"
#include "cli/training/train_flags.hpp"
#include "cli/training/train_session.hpp"
#include "cli/whole_number.hpp"
#include "engine/error.hpp"
#include "engine/io/atomic_write.hpp"
#include "engine/io/directory_lock.hpp"
#include "nn/tasks/training_loop.hpp"

namespace mmx::cli {
namespace {

// The most seeds per arm: 10^20 was clamped to INT64_MAX and filled memory with run options.
constexpr int64_t kMaxSeeds = 1000;

struct CompareCommand {
  std::string task = "lm";
  std::string attention = "softmax,multimax,sparsemax,entmax15";
  int64_t seeds = 2;
  std::string out;
  int threads = 0;
};

constexpr int64_t kDefaultSteps = 300;

// One arm of the comparison: an attention normalizer, and whether the output logits are
// MultiMax-modulated too (the official code's setup; --multimax-logits in mmx train).
struct Arm {
  std::string name;  // "multimax", "multimax+logits": the table row, the runs' folder prefix
  nn::AttentionKind kind;
  bool logits;
};

constexpr std::string_view kLogitsSuffix = "+logits";

std::vector<Arm> parse_arms(const std::string& list) {
  std::vector<Arm> arms;
  for (size_t start = 0, comma = 0; comma != std::string::npos; start = comma + 1) {
    comma = list.find(',', start);
    std::string name = list.substr(start, comma == std::string::npos ? comma : comma - start);
    MMX_CHECK(!name.empty(), "compare: --attn '", list, "' has an empty name");
    const bool logits = name.ends_with(kLogitsSuffix);
    if (logits) name.resize(name.size() - kLogitsSuffix.size());
    const nn::AttentionKind kind = nn::parse_attention_kind(name);
    const std::string canonical =
        nn::attention_kind_name(kind) + (logits ? std::string(kLogitsSuffix) : "");
    MMX_CHECK(std::none_of(arms.begin(), arms.end(),
                           [&](const Arm& arm) { return arm.name == canonical; }),
              "compare: --attn names ", canonical, " twice");
    arms.push_back({canonical, kind, logits});
  }
  return arms;
}

// The task's defaults with compare's own budget: `steps`, an evaluation every tenth of it, and
// a warmup of a tenth when the task's default would not fit.
nlohmann::json budget(const std::string& task, int64_t steps) {
  nlohmann::json options = nn::default_trainer_options(task);
  options["steps"] = steps;
  options["eval_interval"] = std::max<int64_t>(1, steps / 10);
  if (options["warmup"].get<int64_t>() >= steps) options["warmup"] = steps / 10;
  return options;
}

void run_compare(const CLI::App& cmd, const CompareCommand& c) {
  const std::vector<Arm> arms = parse_arms(c.attention);
  const CLI::Option* steps_flag = cmd.get_option("--steps");
  const int64_t steps = steps_flag->count() > 0 ? steps_flag->as<int64_t>() : kDefaultSteps;
  const nlohmann::json options = options_from_flags(cmd, c.task, budget(c.task, steps));
  const std::filesystem::path out = c.out.empty() ? "runs/compare-" + c.task : c.out;
  // Build every run's options first, so a bad --set fails before any training.
  std::vector<nlohmann::json> run_options;
  for (const Arm& arm : arms)
    for (int64_t seed = 0; seed < c.seeds; ++seed) {
      nlohmann::json o = options;
      nn::set_attention(c.task, o, arm.kind);
      o["model"]["multimax_logits"] = arm.logits;
      o["seed"] = seed;
      run_options.push_back(std::move(o));
    }
  nn::make_trainer(c.task, run_options.front());  // validates the shared options
  // One process at a time in the folder (as mmx train's run directory): two compares there would
  // write each other's runs, logs and summary.
  const io::DirectoryLock lock(out, "compare");

  std::fprintf(stderr, "compare %s: %zu arms x %ld seeds, %ld steps each -> %s\n", c.task.c_str(),
               arms.size(), c.seeds, steps, out.c_str());
  std::vector<CompareRun> runs;
  for (size_t i = 0; i < run_options.size(); ++i) {
    const std::string& kind = arms[i / static_cast<size_t>(c.seeds)].name;
    const uint64_t seed = i % static_cast<size_t>(c.seeds);
    std::unique_ptr<nn::Trainer> trainer = nn::make_trainer(c.task, run_options[i]);
    CompareRun run{
        kind, seed, out / (kind + "-seed" + std::to_string(seed)), trainer->items_per_step(), {}};
    const std::string label = kind + " seed " + std::to_string(seed) + " (" +
                              std::to_string(i + 1) + "/" + std::to_string(run_options.size()) +
                              ")";
    std::fprintf(stderr, "\n== %s: %s ==\n", label.c_str(), trainer->describe().c_str());
    const io::DirectoryLock run_lock(run.dir, "compare");  // and each run's, as mmx train does
    const SessionResult result = train_with_progress(*trainer, run.dir, label);
    MMX_CHECK(result.end == nn::TrainingEnd::finished, "compare: interrupted during ", label,
              "; finished runs and its checkpoint are in ", out.string());
    for (const nlohmann::json& record : nn::read_training_log(run.dir / "log.jsonl"))
      run.evals.push_back(nn::EvalRecord::from_json(record));
    runs.push_back(std::move(run));
  }

  const std::vector<KindSummary> summaries = summarize_runs(runs);
  const std::string table = format_compare_table(summaries, c.seeds);
  std::printf("\n%s", table.c_str());
  nlohmann::json summary = compare_json(c.task, options, runs, summaries);
  if (const std::optional<PairedComparison> paired = pair_with_baseline(runs)) {
    std::printf("\n%s", format_paired_table(*paired).c_str());
    summary["paired"] = paired_json(*paired);
  } else {
    std::printf("\n(no paired differences: they need a %s arm and another to pair with it)\n",
                kPairedBaseline);
  }
  const std::filesystem::path json = out / "compare.json", png = out / "compare_curves.png";
  io::write_file_atomically(json, summary.dump(2) + "\n");
  write_compare_curves(runs, png,
                       c.task + ": " + std::to_string(steps) + " steps, " +
                           std::to_string(c.seeds) + " seed" + (c.seeds > 1 ? "s" : "") +
                           " per attention kind");
  std::printf("\nruns: %s/<attn>-seed<k>/\nsummary: %s\ncurves: %s\n", out.c_str(), json.c_str(),
              png.c_str());
}

const bool registered = register_command([](CLI::App& app) {
  auto c = std::make_shared<CompareCommand>();
  auto* cmd = app.add_subcommand(
      "compare", "Train one task with several attention normalizers on the same seeds and compare");
  cmd->add_option("--task", c->task,
                  "lm (character GPT), vit (Fashion-MNIST ViT), mt (translation)")
      ->capture_default_str()
      ->check(CLI::IsMember(nn::trainer_tasks()));
  cmd->add_option(
         "--attn", c->attention,
         "Comma-separated attention normalizers, of: " +
             [] {
               std::string names;
               for (const std::string& n : nn::normalizer_names())
                 names += (names.empty() ? "" : ", ") + n;
               return names +
                      "; a name+logits also modulates the output logits with MultiMax "
                      "(multimax+logits: the official code's setup)";
             }())
      ->capture_default_str();
  cmd->add_option("--seeds", c->seeds, "Seeds 0..K-1, each run once per normalizer")
      ->check(whole_number(1, kMaxSeeds))
      ->capture_default_str();
  cmd->add_option("--out", c->out, "Output folder (default runs/compare-<task>)");
  add_threads_option(cmd, c->threads);
  std::map<std::string, nlohmann::json> defaults;
  for (const std::string& task : nn::trainer_tasks()) defaults[task] = budget(task, kDefaultSteps);
  // --attn is a list of arms here (its +logits suffix is --multimax-logits per arm) and --seed
  // runs over --seeds.
  add_train_flags(*cmd, defaults, {"--attn", "--seed", "--multimax-logits"});
  cmd->callback([cmd, c] {
    apply_threads(c->threads);
    run_compare(*cmd, *c);
  });
});

}  // namespace
}  // namespace mmx::cli
