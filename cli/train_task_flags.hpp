// `mmx train --task lm|vit|mt`: each task's flag set says which flags it accepts and where each
// value goes in the task's options JSON (nn::make_trainer reads it), so a flag a task cannot use
// is a clear error instead of being silently ignored. One set per task: train_flags_<task>.cpp.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/trainer.hpp"

namespace mmx::cli {

struct TaskFlag {
  std::string flag;                   // "--layers"
  std::vector<std::string> pointers;  // JSON pointers into the options: {"/model/layers"}
};

struct TaskFlagSet {
  std::string task;
  std::vector<TaskFlag> flags;
};

const TaskFlagSet& lm_flag_set();   // train_flags.cpp
const TaskFlagSet& vit_flag_set();  // train_flags_vit.cpp
const TaskFlagSet& mt_flag_set();   // train_flags_mt.cpp
// The set of `task`; an unknown task is an mmx::Error listing the tasks.
const TaskFlagSet& task_flag_set(const std::string& task);

// Registers the flags only vit or mt accept (the shared ones come from add_train_flags).
void add_vit_only_flags(CLI::App& cmd);
void add_mt_only_flags(CLI::App& cmd);
// Every flag of any set.
std::vector<std::string> all_run_flags();

// The task's default options with every flag given on `cmd` written over them, each value
// converted to the type the default has there. A given flag outside the set is an mmx::Error
// naming the flag and the tasks that accept it. --steps without --warmup keeps the default
// warmup's share of the default run (a short run never ends inside the default warmup).
nlohmann::json options_from_flags(const CLI::App& cmd, const TaskFlagSet& set);

// `mmx train --resume DIR` with run flags: each given value must equal the saved run's (an
// mmx::Error names the flag, the checkpoint's value and the given one), except --steps, which
// may exceed the run's total to extend it. Returns the steps to extend to (0: none).
int64_t resume_extension_from_flags(const CLI::App& cmd, const nn::SavedRun& saved);

}  // namespace mmx::cli
