#include "cli/train_task_flags.hpp"

#include <algorithm>

#include "engine/error.hpp"
#include "nn/trainer.hpp"

namespace mmx::cli {

const TaskFlagSet& task_flag_set(const std::string& task) {
  for (const TaskFlagSet* set : {&lm_flag_set(), &vit_flag_set(), &mt_flag_set()})
    if (set->task == task) return *set;
  (void)nn::default_trainer_options(task);  // throws the error that lists the tasks
  throw Error(cat("train: task '", task, "' has no flag set"));
}

std::vector<std::string> all_run_flags() {
  std::vector<std::string> flags;
  for (const TaskFlagSet* set : {&lm_flag_set(), &vit_flag_set(), &mt_flag_set()})
    for (const TaskFlag& f : set->flags)
      if (std::find(flags.begin(), flags.end(), f.flag) == flags.end()) flags.push_back(f.flag);
  return flags;
}

namespace {
// The tasks whose set holds `flag`, for the error message.
std::string tasks_accepting(const std::string& flag) {
  std::string out;
  for (const TaskFlagSet* set : {&lm_flag_set(), &vit_flag_set(), &mt_flag_set()})
    for (const TaskFlag& f : set->flags)
      if (f.flag == flag) out += (out.empty() ? "" : ", ") + set->task;
  return out;
}

// The flag's last value, typed like `like` (the default at that place in the options).
nlohmann::json typed_value(const CLI::Option& option, const nlohmann::json& like) {
  if (like.is_boolean()) return true;  // boolean options are presence flags
  const std::string text = option.results().back();
  if (like.is_string()) return text;
  if (like.is_number_integer() || like.is_number_unsigned()) return option.as<int64_t>();
  if (like.is_number_float()) return option.as<double>();
  throw Error(cat("train: ", option.get_name(), " maps to a non-scalar option field"));
}
}  // namespace

nlohmann::json options_from_flags(const CLI::App& cmd, const TaskFlagSet& set) {
  nlohmann::json options = nn::default_trainer_options(set.task);
  for (const std::string& flag : all_run_flags()) {
    if (cmd.count(flag) == 0) continue;
    const auto it = std::find_if(set.flags.begin(), set.flags.end(),
                                 [&](const TaskFlag& f) { return f.flag == flag; });
    MMX_CHECK(it != set.flags.end(), "train: ", flag, " does not apply to --task ", set.task,
              " (it is a flag of --task ", tasks_accepting(flag), ")");
    for (const std::string& pointer : it->pointers) {
      const nlohmann::json::json_pointer at(pointer);
      options[at] = typed_value(*cmd.get_option(flag), options.at(at));
    }
  }
  return options;
}

}  // namespace mmx::cli
