#include "nn/trainer.hpp"

#include "engine/error.hpp"
#include "nn/data/checkpoint.hpp"
#include "nn/distributed/communicator.hpp"
#include "nn/optim_options.hpp"
#include "nn/trainer_parts.hpp"

namespace mmx::nn {

nlohmann::json EvalRecord::to_json() const {
  nlohmann::json j = {{"step", step},
                      {"train_loss", train_loss},
                      {"val_loss", val_loss},
                      {"lr", lr},
                      {"items_per_s", items_per_s},
                      {"item_unit", item_unit},
                      {"attention_layers", attention_layers},
                      {"attention_sparsity", sparsity},
                      {"attention_multimodality", multimodality}};
  if (metric) j["metric"] = {{"name", metric->name}, {"value", metric->value}};
  return j;
}

EvalRecord EvalRecord::from_json(const nlohmann::json& j) {
  EvalRecord r;
  try {
    j.at("step").get_to(r.step);
    j.at("train_loss").get_to(r.train_loss);
    j.at("val_loss").get_to(r.val_loss);
    j.at("lr").get_to(r.lr);
    j.at("items_per_s").get_to(r.items_per_s);
    j.at("item_unit").get_to(r.item_unit);
    j.at("attention_layers").get_to(r.attention_layers);
    j.at("attention_sparsity").get_to(r.sparsity);
    j.at("attention_multimodality").get_to(r.multimodality);
    if (j.contains("metric"))
      r.metric = TaskMetric{j["metric"].at("name").get<std::string>(),
                            j["metric"].at("value").get<double>()};
  } catch (const nlohmann::json::exception& e) {
    throw Error(cat("training log record: ", e.what(), " in ", j.dump()));
  }
  return r;
}

const std::vector<std::string>& trainer_tasks() {
  static const std::vector<std::string> tasks = {"lm", "vit", "mt"};
  return tasks;
}

namespace {
std::string task_list() {
  std::string out;
  for (const std::string& t : trainer_tasks()) out += (out.empty() ? "" : ", ") + t;
  return out;
}

void check_task(const std::string& task) {
  for (const std::string& t : trainer_tasks())
    if (t == task) return;
  throw Error(cat("unknown task '", task, "' (choose one of ", task_list(), ")"));
}

// mt's loss is a mean over the batch's non-padding target tokens, which differ from share to
// share, so the ranks' mean losses would not average to the global batch's.
void check_data_parallel(const std::string& task) {
  const int ranks = distributed::world().size();
  MMX_CHECK(ranks == 1 || task != "mt", "train: data-parallel training (", ranks,
            " ranks) supports --task lm and vit, not mt; run mt without mpirun");
}
}  // namespace

nlohmann::json default_trainer_options(const std::string& task) {
  check_task(task);
  if (task == "vit") return default_vit_options();
  if (task == "mt") return default_mt_options();
  return default_lm_options();
}

void set_attention(const std::string& task, nlohmann::json& options, AttentionKind kind) {
  check_task(task);
  const char* name = attention_kind_name(kind);
  if (task == "mt") {
    for (const char* side : {"encoder_attention", "decoder_attention", "cross_attention"})
      options["model"][side] = name;
  } else {
    options["model"]["attention"] = name;
  }
}

std::unique_ptr<Trainer> make_trainer(const std::string& task, const nlohmann::json& options) {
  const nlohmann::json merged =
      merge_known_fields(default_trainer_options(task), options, task + " options");
  check_data_parallel(task);
  if (task == "vit") return make_vit_trainer(merged);
  if (task == "mt") return make_mt_trainer(merged);
  return make_lm_trainer(merged);
}

std::string checkpoint_task(const nlohmann::json& model_metadata) {
  if (!model_metadata.contains("task")) return "lm";  // runs saved before tasks existed
  const nlohmann::json& task = model_metadata["task"];
  MMX_CHECK(task.is_string(), "checkpoint: metadata field 'task' is not a string: ", task.dump());
  return task.get<std::string>();
}

namespace {
constexpr const char* kOptionsKey = "train_options";  // where every task saves its options
}  // namespace

SavedRun read_saved_run(const std::filesystem::path& dir) {
  const data::Checkpoint c = data::load_checkpoint(dir);
  const std::string task = checkpoint_task(c.model_metadata);
  check_task(task);
  return {task, c.step, checkpoint_field<nlohmann::json>(c.model_metadata, kOptionsKey, dir)};
}

std::unique_ptr<Trainer> resume_trainer(const std::filesystem::path& dir, int64_t extend_to_steps) {
  data::Checkpoint checkpoint = data::load_checkpoint(dir);
  const std::string task = checkpoint_task(checkpoint.model_metadata);
  check_task(task);
  check_data_parallel(task);
  if (extend_to_steps > 0) {
    nlohmann::json& options = checkpoint.model_metadata[kOptionsKey];
    auto optim = parse_options<OptimOptions>(options, "checkpoint " + dir.string());
    optim.extend_to(checkpoint.step, extend_to_steps);
    to_json(options, optim);  // the task's own fields stay as they were
  }
  if (task == "vit") return resume_vit_trainer(checkpoint, dir);
  if (task == "mt") return resume_mt_trainer(checkpoint, dir);
  return resume_lm_trainer(checkpoint, dir);
}

}  // namespace mmx::nn
