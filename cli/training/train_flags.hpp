// The training flags, one table: each row is a flag, its help and check, and where its value
// goes in each task's options JSON (nn::make_trainer reads it). `mmx train`, `mmx demo` and
// `mmx compare` register their flags from it and turn the given ones into options the same way,
// so a flag added here works in all three, and a flag a task cannot use is a clear error.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/tasks/trainer.hpp"

namespace mmx::cli {

// Where a flag writes in one task's options: JSON pointers ({} when the task has no use for it).
struct FlagTarget {
  std::string task;
  std::vector<std::string> pointers;  // {"/model/layers"}
};

struct TrainFlag {
  std::string flag;  // "--layers"
  std::string help;
  CLI::Validator check;
  std::vector<FlagTarget> targets;  // a presence flag's value is true (bool fields)
  // The pointers of `task` (empty: the task does not take this flag).
  const std::vector<std::string>& pointers(const std::string& task) const;
};

// Every row, in the order they are applied (mt's --attn before --enc-attn, which overrides it).
const std::vector<TrainFlag>& train_flags();

// Registers on `cmd` every flag that one of `defaults`' tasks takes, but those in `except`.
// `defaults` holds each task's base options (the task's defaults, or a command's own budget);
// the help shows their values.
void add_train_flags(CLI::App& cmd, const std::map<std::string, nlohmann::json>& defaults,
                     const std::vector<std::string>& except = {});

// `base` with every flag given on `cmd` written over it, each value typed like the base's field.
// A given flag the task does not take is an mmx::Error naming the tasks that do. --steps given
// without --warmup keeps base's warmup share of the run (a short run never ends inside a long
// default warmup).
nlohmann::json options_from_flags(const CLI::App& cmd, const std::string& task,
                                  nlohmann::json base);

// `mmx train --resume DIR` with run flags: each given value must equal the saved run's (an
// mmx::Error names the flag, the run's value and the given one), except --steps, which may
// exceed the run's total to extend it. Returns the steps to extend to (0: none).
int64_t resume_extension_from_flags(const CLI::App& cmd, const nn::SavedRun& saved);

// An nn/ error names option fields in backticks (`warmup`); this names the flags instead.
std::string with_flag_names(const std::string& message);

}  // namespace mmx::cli
