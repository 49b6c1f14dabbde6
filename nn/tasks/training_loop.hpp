/// \file
/// The training loop around any Trainer (lm, vit, mt): steps until the end, evaluates every
/// eval_interval, appends each evaluation to `<out>/log.jsonl` and saves the checkpoint to `<out>`
/// after it; stops early (saving first) when asked to, e.g. by Ctrl-C.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "nn/tasks/trainer.hpp"

namespace mmx::nn {

/// Callbacks run_training calls; each may be empty.
struct TrainingHooks {
  std::function<void(int64_t step, float loss)> on_step;  ///< after every step
  std::function<void(const EvalRecord& record)> on_eval;  ///< after every evaluation
  std::function<bool()> stop_requested;                   ///< polled between steps
};

/// How run_training ended: every step done, or stop_requested said stop.
enum class TrainingEnd { finished, interrupted };

/// A fresh run starts a new log; a resumed run (trainer.step() > 0) drops log lines past the
/// checkpoint's step, so a run killed between logging and saving leaves no duplicate lines.
/// A non-finite loss propagates as mmx::Error; the last saved checkpoint stays as it was.
/// Data-parallel (distributed::world() has several ranks): every rank calls this; rank 0 alone
/// writes the log and checkpoints, and a stop requested on any rank stops all of them.
TrainingEnd run_training(Trainer& trainer, const std::filesystem::path& out_dir,
                         const TrainingHooks& hooks);

/// Whether `dir` holds a run: a checkpoint, or a log with records.
bool holds_run(const std::filesystem::path& dir);

/// Removes the run in `dir` (its checkpoint and its log), for a new run that replaces it.
void remove_run(const std::filesystem::path& dir);

/// The records of a log.jsonl, in order (for loss-curve figures and tests).
std::vector<nlohmann::json> read_training_log(const std::filesystem::path& log_file);

}  // namespace mmx::nn
