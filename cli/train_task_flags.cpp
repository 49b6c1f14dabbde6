#include "cli/train_task_flags.hpp"

#include <algorithm>
#include <charconv>

#include "engine/error.hpp"
#include "nn/optim_options.hpp"

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

// The set's entry for a flag given on the command line; an mmx::Error when the task has none.
const TaskFlag& given_flag(const TaskFlagSet& set, const std::string& flag) {
  const auto it = std::find_if(set.flags.begin(), set.flags.end(),
                               [&](const TaskFlag& f) { return f.flag == flag; });
  MMX_CHECK(it != set.flags.end(), "train: ", flag, " does not apply to --task ", set.task,
            " (it is a flag of --task ", tasks_accepting(flag), ")");
  return *it;
}

// A value as a user would type it: strings bare, an options float in its shortest form (the
// saved 2e-3f prints 0.002, not the double 0.0020000000949949026).
std::string as_typed(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_number_float()) return value.dump();
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, static_cast<float>(value.get<double>()));
  return std::string(text, end.ptr);
}

// Options fields are floats where JSON holds doubles: 2e-3 given equals the 2e-3f saved.
bool same_value(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number_float() || b.is_number_float())
    return a.is_number() && b.is_number() &&
           static_cast<float>(a.get<double>()) == static_cast<float>(b.get<double>());
  return a == b;
}
}  // namespace

nlohmann::json options_from_flags(const CLI::App& cmd, const TaskFlagSet& set) {
  nlohmann::json options = nn::default_trainer_options(set.task);
  if (cmd.count("--steps") > 0 && cmd.count("--warmup") == 0) {
    auto optim = options.get<nn::OptimOptions>();
    optim.set_steps_keeping_warmup_share(cmd.get_option("--steps")->as<int64_t>());
    to_json(options, optim);
  }
  for (const std::string& flag : all_run_flags()) {
    if (cmd.count(flag) == 0) continue;
    for (const std::string& pointer : given_flag(set, flag).pointers) {
      const nlohmann::json::json_pointer at(pointer);
      options[at] = typed_value(*cmd.get_option(flag), options.at(at));
    }
  }
  return options;
}

int64_t resume_extension_from_flags(const CLI::App& cmd, const nn::SavedRun& saved) {
  const TaskFlagSet& set = task_flag_set(saved.task);
  // The given flags applied in order, as for a new run: a later flag's field wins (mt's
  // --cross-attn over --attn), and the difference is charged to the flag that set it.
  std::vector<std::pair<std::string, std::string>> last_writer;  // (pointer, flag)
  nlohmann::json given = saved.options;
  for (const std::string& flag : all_run_flags()) {
    if (cmd.count(flag) == 0) continue;
    for (const std::string& pointer : given_flag(set, flag).pointers) {
      const nlohmann::json::json_pointer at(pointer);
      given[at] = typed_value(*cmd.get_option(flag), saved.options.at(at));
      std::erase_if(last_writer, [&](const auto& w) { return w.first == pointer; });
      last_writer.emplace_back(pointer, flag);
    }
  }
  int64_t extend_to = 0;
  for (const auto& [pointer, flag] : last_writer) {
    const nlohmann::json::json_pointer at(pointer);
    const nlohmann::json &was = saved.options.at(at), &now = given.at(at);
    if (same_value(now, was)) continue;
    if (pointer == "/steps" && now.get<int64_t>() > was.get<int64_t>()) {
      extend_to = now.get<int64_t>();
      continue;
    }
    throw Error(
        cat("train: ", flag, " ", as_typed(now), " differs from the resumed run's ", as_typed(was),
            pointer == "/steps" ? " (a run can be extended, not shortened)" : "", "; drop ", flag,
            " to keep the run's value, or start a new run without "
            "--resume"));
  }
  return extend_to;
}

}  // namespace mmx::cli
