// `mmx modulators --ckpt DIR`: what a trained model's MultiMax learned. One figure with each
// site's sigma(x) against the identity above the histogram of the raw scores it saw on the run's
// fixed validation batch, and the share of scores on each piece of the modulator; with
// --trajectory, the paths of every (t, r) over training, read from the run's log.jsonl.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/command_registry.hpp"
#include "cli/inspect/modulator_figures.hpp"
#include "cli/inspect/modulator_report.hpp"
#include "cli/threads.hpp"
#include "engine/error.hpp"
#include "nn/tasks/trainer.hpp"
#include "nn/tasks/training_loop.hpp"

namespace mmx::cli {
namespace {

struct ModulatorsCommand {
  std::string checkpoint;
  std::string out;  // empty: <ckpt>/modulators.png, or <ckpt>/modulator_paths.png
  bool json = false;
  bool trajectory = false;
  int threads = 0;
};

// Where the figure went: on stdout after the text, on stderr with --json (stdout stays JSON).
void print_written(const ModulatorsCommand& c, const std::filesystem::path& path) {
  std::ostream& out = c.json ? std::cerr : std::cout;
  out << (c.json ? "" : "\n") << "figure: " << path.string() << "\n";
}

// --out, or `name` in the checkpoint's folder.
std::filesystem::path figure_path(const ModulatorsCommand& c, const char* name) {
  return c.out.empty() ? std::filesystem::path(c.checkpoint) / name : std::filesystem::path(c.out);
}

void run_final(const ModulatorsCommand& c) {
  const ModulatorReport report = read_modulators(c.checkpoint, "modulators");
  const std::filesystem::path path = figure_path(c, "modulators.png");
  write_modulator_figure(report, path);
  if (c.json)
    std::cout << to_json(report).dump(2) << "\n";
  else
    std::cout << to_text(report);
  print_written(c, path);
}

// The (t, r) the run started from, which the log (first written after eval_interval steps)
// lacks: its model built again from the checkpoint's options and seed.
ModulatorSnapshot initial_snapshot(const std::string& checkpoint) {
  const nn::SavedRun saved = nn::read_saved_run(checkpoint);
  const std::unique_ptr<nn::Trainer> fresh = nn::make_trainer(saved.task, saved.options);
  return {0, nn::multimax_site_values(fresh->model())};
}

// The (t, r) at the start and at every evaluation in the run's log; errors name the log and
// what to do.
std::vector<ModulatorSnapshot> read_snapshots(const std::string& checkpoint,
                                              const std::filesystem::path& log) {
  MMX_CHECK(std::filesystem::is_regular_file(log), "modulators: --trajectory reads ", log.string(),
            ", which does not exist; give --ckpt the folder `mmx train --out` wrote");
  std::vector<ModulatorSnapshot> snapshots;
  for (const nlohmann::json& line : nn::read_training_log(log)) {
    const nn::EvalRecord record = nn::EvalRecord::from_json(line);
    MMX_CHECK(record.multimax.has_value(), "modulators: ", log.string(), " (step ", record.step,
              ") was written before the training log recorded MultiMax's (t, r); retrain the run "
              "to draw their paths, or drop --trajectory to draw the final (t, r)");
    snapshots.push_back({record.step, *record.multimax});
  }
  MMX_CHECK(!snapshots.empty(), "modulators: ", log.string(), " holds no evaluation yet");
  MMX_CHECK(!snapshots.front().sites.empty(), "modulators: the run logged in ", log.string(),
            " has no MultiMax; train one with --attn multimax or --multimax-logits");
  if (snapshots.front().step > 0) snapshots.insert(snapshots.begin(), initial_snapshot(checkpoint));
  for (const ModulatorSnapshot& s : snapshots) {
    bool same = s.sites.size() == snapshots.front().sites.size();
    for (size_t i = 0; same && i < s.sites.size(); ++i)
      same = s.sites[i].site == snapshots.front().sites[i].site &&
             s.sites[i].t.size() == snapshots.front().sites[i].t.size();
    MMX_CHECK(same, "modulators: ", log.string(), " changes its MultiMax sites at step ", s.step,
              "; it mixes two runs: train again into an empty --out");
  }
  return snapshots;
}

void run_trajectory(const ModulatorsCommand& c) {
  const std::filesystem::path log = std::filesystem::path(c.checkpoint) / "log.jsonl";
  const std::vector<ModulatorSnapshot> snapshots = read_snapshots(c.checkpoint, log);
  const std::filesystem::path path = figure_path(c, "modulator_paths.png");
  const ModulatorSnapshot& first = snapshots.front();
  const ModulatorSnapshot& last = snapshots.back();
  write_trajectory_figure(
      snapshots, cat("MultiMax (t, r) over training, steps ", first.step, " to ", last.step), path);

  nlohmann::ordered_json sites = nlohmann::ordered_json::array();
  std::string text =
      cat("MultiMax (t, r) of the run in ", c.checkpoint, ", steps ", first.step, " to ", last.step,
          ":\nthe start (rebuilt from the run's options and seed) and the ", snapshots.size() - 1,
          " evaluations of log.jsonl\n",
          "site                               first -> last, largest |change| of "
          "any t or r in use\n");
  for (size_t s = 0; s < first.sites.size(); ++s)
    for (size_t h = 0; h < first.sites[s].t.size(); ++h) {
      const nn::MultiMaxSiteValues& a = first.sites[s];
      const nn::MultiMaxSiteValues& b = last.sites[s];
      double largest = 0;
      for (int k = 0; k < 2 * a.order; ++k) {
        const auto i = static_cast<size_t>(k);
        largest = std::max({largest, std::abs(static_cast<double>(b.t[h][i] - a.t[h][i])),
                            std::abs(static_cast<double>(b.r[h][i] - a.r[h][i]))});
      }
      const std::string name = a.per_head ? cat(a.site, ", head ", h) : a.site;
      sites.push_back({{"site", a.site},
                       {"head", a.per_head ? nlohmann::ordered_json(h) : nlohmann::ordered_json()},
                       {"t_first", a.t[h]},
                       {"t_last", b.t[h]},
                       {"r_first", a.r[h]},
                       {"r_last", b.r[h]},
                       {"largest_change", largest}});
      char line[200];
      std::snprintf(line, sizeof line, "%-34s %.4f\n", name.c_str(), largest);
      text += line;
    }
  if (c.json)
    std::cout << nlohmann::ordered_json{{"log", log.string()},
                                        {"first_step", first.step},
                                        {"last_step", last.step},
                                        {"sites", sites}}
                     .dump(2)
              << "\n";
  else
    std::cout << text;
  print_written(c, path);
}

const bool registered = register_command([](CLI::App& app) {
  auto c = std::make_shared<ModulatorsCommand>();
  auto* cmd = app.add_subcommand(
      "modulators",
      "Draw what a trained model's MultiMax learned: each site's sigma(x) over the scores it saw");
  cmd->add_option("--ckpt", c->checkpoint, "Checkpoint directory written by `mmx train`")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", c->out,
                  "The PNG to write (default: <ckpt>/modulators.png, with --trajectory "
                  "<ckpt>/modulator_paths.png)");
  cmd->add_flag("--json", c->json, "Print one JSON object instead of tables");
  cmd->add_flag("--trajectory", c->trajectory,
                "Draw the paths of every (t, r) over training, from <ckpt>/log.jsonl");
  add_threads_option(cmd, c->threads);
  cmd->callback([c] {
    apply_threads(c->threads);
    if (c->trajectory)
      run_trajectory(*c);
    else
      run_final(*c);
  });
});

}  // namespace
}  // namespace mmx::cli
