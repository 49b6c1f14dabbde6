#include "cli/training/train_session.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>

#include "cli/training/progress_bar.hpp"
#include "engine/error.hpp"
#include "nn/distributed/communicator.hpp"
#include "plot/line_chart.hpp"

namespace mmx::cli {

namespace {
std::atomic<bool> stop_signal{false};
extern "C" void request_stop(int) {
  stop_signal.store(true);
}

// Installs the handlers for the lifetime of a session and restores the previous ones after,
// unless a stop was asked for: the process is then on its way out, and a repeated Ctrl-C or
// SIGTERM (while the checkpoint or the figure is written) must only repeat the request, not
// kill it with the default action.
class StopOnSignals {
 public:
  StopOnSignals() {
    stop_signal.store(false);
    previous_int_ = std::signal(SIGINT, request_stop);
    previous_term_ = std::signal(SIGTERM, request_stop);
  }
  ~StopOnSignals() {
    if (stop_signal.load()) return;
    std::signal(SIGINT, previous_int_);
    std::signal(SIGTERM, previous_term_);
  }
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  void (*previous_int_)(int);
  void (*previous_term_)(int);
};
}  // namespace

std::string format_per_layer(const std::vector<double>& values) {
  std::string out;
  char buf[32];
  for (double v : values) {
    std::snprintf(buf, sizeof buf, out.empty() ? "%.3f" : " %.3f", v);
    out += buf;
  }
  return out;
}

std::string format_eval(const nn::EvalRecord& r) {
  char line[256];
  std::snprintf(line, sizeof line, "train %.4f  val %.4f", r.train_loss, r.val_loss);
  std::string out = line;
  if (r.metric) {
    std::snprintf(line, sizeof line, "  %s %.2f", r.metric->name.c_str(), r.metric->value);
    out += line;
  }
  std::snprintf(line, sizeof line, "  lr %.2e  %s %s/s", r.lr, format_rate(r.items_per_s).c_str(),
                r.item_unit.c_str());
  out += line;
  if (!r.sparsity.empty())
    out += "  S/layer " + format_per_layer(r.sparsity) + "  M/layer " +
           format_per_layer(r.multimodality);
  return out;
}

SessionResult train_with_progress(nn::Trainer& trainer, const std::filesystem::path& out_dir,
                                  const std::string& label) {
  StopOnSignals signals;
  // Data-parallel training: rank 0 alone shows progress; the other ranks train silently.
  const bool shows_progress = nn::distributed::world().is_main();
  ProgressBar bar(label, trainer.total_steps(), trainer.step(), trainer.items_per_step(),
                  trainer.item_unit());
  SessionResult result;
  nn::TrainingHooks hooks;
  hooks.on_step = [&](int64_t step, float loss) {
    if (!shows_progress) return;
    char figures[64];
    std::snprintf(figures, sizeof figures, "loss %.4f", loss);
    bar.update(step, figures);
  };
  hooks.on_eval = [&](const nn::EvalRecord& r) {
    if (shows_progress)
      bar.message(label + " step " + std::to_string(r.step) + ": " + format_eval(r));
    result.last_eval = r;
  };
  hooks.stop_requested = [] { return stop_signal.load(); };
  const auto start = std::chrono::steady_clock::now();
  result.end = nn::run_training(trainer, out_dir, hooks);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!shows_progress) return result;
  bar.finish();
  if (result.end == nn::TrainingEnd::interrupted)
    std::fprintf(
        stderr, "%s: interrupted at step %ld; checkpoint saved to %s (continue with --resume %s)\n",
        label.c_str(), trainer.step(), out_dir.c_str(), out_dir.c_str());
  return result;
}

void write_loss_figure(const std::vector<std::pair<std::string, std::filesystem::path>>& runs,
                       const std::filesystem::path& png, const std::string& title) {
  plot::LineChart chart;
  chart.title = title;
  chart.x_axis.label = "step";
  chart.y_axis.label = "cross-entropy (nats/char)";
  for (const auto& [name, log] : runs) {
    std::vector<double> steps, train, val;
    for (const nlohmann::json& json : nn::read_training_log(log)) {
      const nn::EvalRecord r = nn::EvalRecord::from_json(json);
      steps.push_back(static_cast<double>(r.step));
      train.push_back(r.train_loss);
      val.push_back(r.val_loss);
    }
    MMX_CHECK(!steps.empty(), "loss figure: no evaluations in ", log.string());
    const plot::Color color = chart.add_series(name + " train", steps, train).color;
    plot::Series& v = chart.add_series(name + " val", std::move(steps), std::move(val));
    v.color = color;  // same run, same colour; validation dashed
    v.dash = plot::Dash{8, 5};
  }
  chart.save_png(png.string());
}

}  // namespace mmx::cli
