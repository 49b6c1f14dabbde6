#include "cli/training/train_flags.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "cli/whole_number.hpp"

#include "engine/error.hpp"
#include "nn/layers/normalizers.hpp"
#include "nn/models/vit_config.hpp"
#include "nn/optim/optim_options.hpp"

namespace mmx::cli {

namespace {

// Shorthand for the targets column: the same pointers for every task.
std::vector<FlagTarget> all_tasks(std::vector<std::string> pointers) {
  return {{"lm", pointers}, {"vit", pointers}, {"mt", pointers}};
}

const std::vector<std::string> kNoPointers;

}  // namespace

const std::vector<std::string>& TrainFlag::pointers(const std::string& task) const {
  for (const FlagTarget& t : targets)
    if (t.task == task) return t.pointers;
  return kNoPointers;
}

const std::vector<TrainFlag>& train_flags() {
  const auto normalizer = CLI::IsMember(nn::normalizer_names());
  const auto count = [](int64_t most) { return CLI::Range(int64_t{1}, most); };
  static const std::vector<TrainFlag> flags{
      {"--layers",
       "Transformer blocks (mt: encoder and decoder each)",
       CLI::Range(1, 64),
       {{"lm", {"/model/layers"}},
        {"vit", {"/model/layers"}},
        {"mt", {"/model/encoder_layers", "/model/decoder_layers"}}}},
      {"--d-model", "Model width", CLI::Range(4, 4096), all_tasks({"/model/d_model"})},
      {"--heads", "Attention heads (must divide --d-model)", CLI::Range(1, 64),
       all_tasks({"/model/heads"})},
      {"--seq", "Context length in characters", CLI::Range(2, 8192), {{"lm", {"/model/seq_len"}}}},
      {"--batch", "Items per step (sequences, images, phrase pairs)", count(4096),
       all_tasks({"/batch"})},
      {"--steps",
       "Optimizer steps in total (with --resume: a larger value extends the run; the learning "
       "rate then falls by a cosine from where it was to --min-lr at the new end)",
       count(100000000), all_tasks({"/steps"})},
      {"--lr", "Peak learning rate (AdamW)", CLI::PositiveNumber, all_tasks({"/lr"})},
      {"--min-lr", "Learning rate at the end of the cosine decay", CLI::NonNegativeNumber,
       all_tasks({"/min_lr"})},
      {"--warmup", "Linear warmup steps (not given: the default's share of --steps)",
       CLI::NonNegativeNumber, all_tasks({"/warmup"})},
      {"--weight-decay", "AdamW decoupled weight decay (2-D weights only)", CLI::NonNegativeNumber,
       all_tasks({"/weight_decay"})},
      {"--dropout", "Dropout probability", CLI::Range(0.0, 0.95), all_tasks({"/model/dropout"})},
      {"--clip", "Global gradient-norm clip (0: off)", CLI::NonNegativeNumber,
       all_tasks({"/clip"})},
      {"--attn",
       "Attention normalizer (mt: all three attentions)",
       normalizer,
       {{"lm", {"/model/attention"}},
        {"vit", {"/model/attention"}},
        {"mt",
         {"/model/encoder_attention", "/model/decoder_attention", "/model/cross_attention"}}}},
      {"--multimax-order", "MultiMax modulator order", CLI::IsMember({1, 2}),
       all_tasks({"/model/multimax_order"})},
      {"--multimax-per-head",
       "One MultiMax (t, r) per head instead of per layer",
       {},
       all_tasks({"/model/multimax_per_head"})},
      {"--multimax-logits",
       "Also modulate the output logits with MultiMax",
       {},
       all_tasks({"/model/multimax_logits"})},
      {"--multimax-lr-scale",
       "MultiMax (t, r) learning rate as a multiple of --lr (the breakpoints must travel to "
       "where the scores lie)",
       CLI::PositiveNumber, all_tasks({"/multimax_lr_scale"})},
      {"--eval-interval", "Steps between evaluations and checkpoints", count(100000000),
       all_tasks({"/eval_interval"})},
      {"--eval-batch",
       "lm: rows of the fixed validation batch; vit: held-out validation images; mt: valid "
       "pairs decoded for chrF",
       count(100000),
       {{"lm", {"/eval_batch"}}, {"vit", {"/val_images"}}, {"mt", {"/eval_pairs"}}}},
      {"--seed", "Seed of the initial weights, data order and dropout",
       whole_number(0, std::numeric_limits<int64_t>::max()), all_tasks({"/seed"})},
      {"--data",
       "lm: UTF-8 text file or folder (default: the fortunes package); vit: folder of "
       "Fashion-MNIST IDX files; mt: a ding dictionary",
       CLI::ExistingPath, all_tasks({"/data"})},
      {"--precision",
       "Matmul operand precision (bf16: bf16 operands, fp32 accumulation; weights and "
       "normalizers stay fp32)",
       CLI::IsMember({"fp32", "bf16"}), all_tasks({"/precision"})},
      {"--patch",
       "vit: patch side in pixels, must divide the image side",
       CLI::Range(1, 1024),
       {{"vit", {"/model/patch_size"}}}},
      {"--pooling",
       "vit: how the classifier pools the tokens: mean-then-norm (timm's order) or "
       "norm-then-mean (the official MultiMax ViT's)",
       CLI::IsMember(nn::vit_pooling_names()),
       {{"vit", {"/model/pooling"}}}},
      {"--enc-attn",
       "mt: encoder self-attention normalizer (overrides --attn)",
       normalizer,
       {{"mt", {"/model/encoder_attention"}}}},
      {"--dec-attn",
       "mt: decoder self-attention normalizer (overrides --attn)",
       normalizer,
       {{"mt", {"/model/decoder_attention"}}}},
      {"--cross-attn",
       "mt: cross-attention normalizer (overrides --attn)",
       normalizer,
       {{"mt", {"/model/cross_attention"}}}},
      {"--max-chars",
       "mt: longest phrase kept, in characters per side",
       CLI::Range(1, 1000),
       {{"mt", {"/max_chars"}}}},
  };
  return flags;
}

namespace {

// A value as a user would type it: strings bare, an options float in its shortest form (the
// saved 2e-3f prints 0.002, not the double 0.0020000000949949026).
std::string as_typed(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_number_float()) return value.dump();
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, static_cast<float>(value.get<double>()));
  return std::string(text, end.ptr);
}

// " (default 4)" or " (lm 4, vit 4, mt 2)": each task's base value at the row's first pointer.
std::string defaults_text(const TrainFlag& row,
                          const std::map<std::string, nlohmann::json>& defaults) {
  std::vector<std::pair<std::string, std::string>> shown;
  for (const auto& [task, base] : defaults) {
    const std::vector<std::string>& pointers = row.pointers(task);
    if (pointers.empty()) continue;
    const nlohmann::json& value = base.at(nlohmann::json::json_pointer(pointers.front()));
    if (value.is_boolean() || (value.is_string() && value.get<std::string>().empty())) continue;
    shown.emplace_back(task, as_typed(value));
  }
  if (shown.empty()) return "";
  if (shown.size() == 1) return cat(" (default ", shown.front().second, ")");
  std::string text;
  for (const auto& [task, value] : shown) text += cat(text.empty() ? " (" : ", ", task, " ", value);
  return text + ")";
}

// The tasks whose row takes `row`'s flag, for the error message.
std::string tasks_taking(const TrainFlag& row) {
  std::string out;
  for (const FlagTarget& t : row.targets) out += cat(out.empty() ? "" : ", ", t.task);
  return out;
}

// The flag's last value, typed like `like` (the base's value at that place in the options).
nlohmann::json typed_value(const CLI::Option& option, const nlohmann::json& like) {
  if (like.is_boolean()) return true;  // boolean options are presence flags
  const std::string text = option.results().back();
  if (like.is_string()) return text;
  if (like.is_number_integer() || like.is_number_unsigned()) return option.as<int64_t>();
  if (like.is_number_float()) return option.as<double>();
  throw Error(cat("train: ", option.get_name(), " maps to a non-scalar option field"));
}

// The given option of a registered flag, or null.
const CLI::Option* given(const CLI::App& cmd, const std::string& flag) {
  const CLI::Option* option = cmd.get_option_no_throw(flag);
  return option != nullptr && option->count() > 0 ? option : nullptr;
}

// The row's pointers for `task`; an mmx::Error when the task does not take the flag.
const std::vector<std::string>& pointers_or_error(const CLI::App& cmd, const TrainFlag& row,
                                                  const std::string& task) {
  const std::vector<std::string>& pointers = row.pointers(task);
  MMX_CHECK(!pointers.empty(), cmd.get_name(), ": ", row.flag, " does not apply to --task ", task,
            " (it is a flag of --task ", tasks_taking(row), ")");
  return pointers;
}

// Options fields are floats where JSON holds doubles: 2e-3 given equals the 2e-3f saved.
bool same_value(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number_float() || b.is_number_float())
    return a.is_number() && b.is_number() &&
           static_cast<float>(a.get<double>()) == static_cast<float>(b.get<double>());
  return a == b;
}

}  // namespace

void add_train_flags(CLI::App& cmd, const std::map<std::string, nlohmann::json>& defaults,
                     const std::vector<std::string>& except) {
  for (const TrainFlag& row : train_flags()) {
    if (std::find(except.begin(), except.end(), row.flag) != except.end()) continue;
    const auto taken = std::find_if(defaults.begin(), defaults.end(),
                                    [&](const auto& d) { return !row.pointers(d.first).empty(); });
    if (taken == defaults.end()) continue;
    const nlohmann::json& like =
        taken->second.at(nlohmann::json::json_pointer(row.pointers(taken->first).front()));
    const std::string help = row.help + defaults_text(row, defaults);
    if (like.is_boolean()) {
      cmd.add_flag(row.flag, help);
      continue;
    }
    // The last of a repeated flag wins, so a flag can be appended to a command to change it.
    CLI::Option* option = cmd.add_option(row.flag, help)->take_last();
    option->type_name(like.is_string()                                        ? "TEXT"
                      : like.is_number_integer() || like.is_number_unsigned() ? "INT"
                                                                              : "FLOAT");
    option->check(row.check);
  }
}

nlohmann::json options_from_flags(const CLI::App& cmd, const std::string& task,
                                  nlohmann::json base) {
  if (const CLI::Option* steps = given(cmd, "--steps"); steps && !given(cmd, "--warmup")) {
    auto optim = base.get<nn::OptimOptions>();
    optim.set_steps_keeping_warmup_share(steps->as<int64_t>());
    to_json(base, optim);
  }
  for (const TrainFlag& row : train_flags()) {
    const CLI::Option* option = given(cmd, row.flag);
    if (option == nullptr) continue;
    for (const std::string& pointer : pointers_or_error(cmd, row, task)) {
      const nlohmann::json::json_pointer at(pointer);
      base[at] = typed_value(*option, base.at(at));
    }
  }
  return base;
}

namespace {
// The run's value at `at`; a field the run predates (mt's multimax_logits) reads as the task's
// default, as the model configs read it.
nlohmann::json saved_value(const nn::SavedRun& saved, const nlohmann::json::json_pointer& at) {
  return saved.options.contains(at) ? saved.options.at(at)
                                    : nn::default_trainer_options(saved.task).at(at);
}
}  // namespace

int64_t resume_extension_from_flags(const CLI::App& cmd, const nn::SavedRun& saved) {
  // The given flags applied in order, as for a new run: a later flag's field wins (mt's
  // --cross-attn over --attn), and a difference is charged to the flag that set it.
  std::vector<std::pair<std::string, std::string>> last_writer;  // (pointer, flag)
  nlohmann::json now = saved.options;
  for (const TrainFlag& row : train_flags()) {
    const CLI::Option* option = given(cmd, row.flag);
    if (option == nullptr) continue;
    for (const std::string& pointer : pointers_or_error(cmd, row, saved.task)) {
      const nlohmann::json::json_pointer at(pointer);
      now[at] = typed_value(*option, saved_value(saved, at));
      std::erase_if(last_writer, [&](const auto& w) { return w.first == pointer; });
      last_writer.emplace_back(pointer, row.flag);
    }
  }
  int64_t extend_to = 0;
  for (const auto& [pointer, flag] : last_writer) {
    const nlohmann::json::json_pointer at(pointer);
    const nlohmann::json was = saved_value(saved, at), &value = now.at(at);
    if (same_value(value, was)) continue;
    if (pointer == "/steps" && value.get<int64_t>() > was.get<int64_t>()) {
      extend_to = value.get<int64_t>();
      continue;
    }
    throw Error(cat("train: ", flag, " ", as_typed(value), " differs from the resumed run's ",
                    as_typed(was),
                    pointer == "/steps" ? " (a run can be extended, not shortened)" : "", "; drop ",
                    flag, " to keep the run's value, or start a new run without --resume"));
  }
  return extend_to;
}

std::string with_flag_names(const std::string& message) {
  std::string out = message;
  // A field several flags write (mt's encoder_attention: --attn and --enc-attn) is named by the
  // flag that writes it alone: rows writing one field go first.
  for (const bool single : {true, false})
    for (const TrainFlag& row : train_flags())
      for (const FlagTarget& target : row.targets) {
        if ((target.pointers.size() == 1) != single) continue;
        for (const std::string& pointer : target.pointers) {
          const std::string field = cat("`", pointer.substr(pointer.rfind('/') + 1), "`");
          for (size_t at = out.find(field); at != std::string::npos; at = out.find(field, at))
            out.replace(at, field.size(), row.flag);
        }
      }
  return out;
}

}  // namespace mmx::cli
