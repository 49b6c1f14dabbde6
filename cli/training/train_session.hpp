// Running a training job from the command line: the progress bar, Ctrl-C / SIGTERM handling
// (save a checkpoint, exit cleanly), and the loss-curve figure drawn from the JSONL logs.
// Shared by `mmx train`, `mmx demo` and `mmx compare`.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nn/tasks/trainer.hpp"
#include "nn/tasks/training_loop.hpp"

namespace mmx::cli {

struct SessionResult {
  nn::TrainingEnd end = nn::TrainingEnd::finished;
  std::optional<nn::EvalRecord> last_eval;
  double seconds = 0;
};

// Trains to the end with a progress bar labelled `label`, printing each evaluation.
SessionResult train_with_progress(nn::Trainer& trainer, const std::filesystem::path& out_dir,
                                  const std::string& label);

// "val 1.2345  accuracy 88.10  S/layer ...": one evaluation's figures after the losses.
std::string format_eval(const nn::EvalRecord& record);

// Train and validation loss against step for each (name, log.jsonl) run, in one PNG.
void write_loss_figure(const std::vector<std::pair<std::string, std::filesystem::path>>& runs,
                       const std::filesystem::path& png, const std::string& title);

// "0.41 0.38 0.52" for per-layer figures.
std::string format_per_layer(const std::vector<double>& values);

}  // namespace mmx::cli
