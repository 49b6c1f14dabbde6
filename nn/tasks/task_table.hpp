/// \file
/// The tasks, one table: a row per task with its name, its default options, how to start a run
/// from options and how to continue one from a checkpoint, which fields name its attention, and
/// whether it trains data-parallel. make_trainer, resume_trainer and the command line's --task
/// read it; adding a task is a Trainer subclass and a row.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/tasks/trainer.hpp"

namespace mmx::nn {

/// One row of the table.
struct TaskEntry {
  /// "lm", "vit", "mt"
  std::string name;
  /// the task's options with every default
  nlohmann::json (*defaults)();
  /// A new run from full options (defaults already merged in).
  std::unique_ptr<Trainer> (*make)(const nlohmann::json& options);
  /// A run continued from checkpoint `c`, read from `dir`.
  std::unique_ptr<Trainer> (*resume)(const data::Checkpoint& c, const std::filesystem::path& dir);
  /// JSON pointers of the options' attention normalizers (mt: encoder, decoder and cross)
  std::vector<std::string> attention_fields;
  /// can train under mpirun (mt's loss is a mean over a share's target tokens, so ranks' means
  /// would not average to the global batch's)
  bool data_parallel;
};

/// The "lm" row (defined in lm_trainer.cpp, beside its trainer).
const TaskEntry& lm_task();
/// The "vit" row (vit_trainer.cpp).
const TaskEntry& vit_task();
/// The "mt" row (mt_trainer.cpp).
const TaskEntry& mt_task();

/// Every task, in the order `--task` lists them.
const std::vector<const TaskEntry*>& task_table();

}  // namespace mmx::nn
