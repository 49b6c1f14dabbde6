#include "nn/tasks/trainer.hpp"

#include <cmath>

#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/io/json_input.hpp"
#include "engine/measures.hpp"
#include "engine/precision.hpp"
#include "nn/data/checkpoint.hpp"
#include "nn/data/data_fingerprint.hpp"
#include "nn/data/image_dataset.hpp"
#include "nn/distributed/communicator.hpp"
#include "nn/distributed/data_parallel.hpp"
#include "nn/metrics/token_similarity.hpp"
#include "nn/optim/adamw.hpp"
#include "nn/optim/grad_clip.hpp"
#include "nn/optim/optim_options.hpp"
#include "nn/tasks/options_json.hpp"
#include "nn/tasks/task_table.hpp"

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
                      {"attention_multimodality", multimodality},
                      {"blocks", blocks},
                      {"token_similarity", token_similarity}};
  if (metric) j["metric"] = {{"name", metric->name}, {"value", metric->value}};
  if (multimax) {
    j["multimax"] = nlohmann::json::array();
    for (const MultiMaxSiteValues& site : *multimax) j["multimax"].push_back(site.to_json());
  }
  return j;
}

EvalRecord EvalRecord::from_json(const nlohmann::json& j) {
  const std::string label = "training log record";
  EvalRecord r;
  r.step = io::json_field<int64_t>(j, "step", label);
  r.train_loss = io::json_field<double>(j, "train_loss", label);
  r.val_loss = io::json_field<double>(j, "val_loss", label);
  r.lr = io::json_field<double>(j, "lr", label);
  r.items_per_s = io::json_field<double>(j, "items_per_s", label);
  r.item_unit = io::json_field<std::string>(j, "item_unit", label);
  r.attention_layers = io::json_field<std::vector<std::string>>(j, "attention_layers", label);
  r.sparsity = io::json_field<std::vector<double>>(j, "attention_sparsity", label);
  r.multimodality = io::json_field<std::vector<double>>(j, "attention_multimodality", label);
  if (j.contains("blocks")) {
    r.blocks = io::json_field<std::vector<std::string>>(j, "blocks", label);
    // A block whose sequences have no two real tokens has no value: NaN, written as null.
    const auto values = io::json_field<nlohmann::json>(j, "token_similarity", label);
    MMX_CHECK(values.is_array(), label, ": field 'token_similarity' must be an array, got ",
              io::json_excerpt(values));
    for (const nlohmann::json& v : values) {
      MMX_CHECK(v.is_null() || v.is_number(), label,
                ": field 'token_similarity' must hold numbers or null, got ", io::json_excerpt(v));
      r.token_similarity.push_back(v.is_null() ? NAN : v.get<double>());
    }
  }
  if (j.contains("metric"))
    r.metric = TaskMetric{io::json_field<std::string>(j["metric"], "name", label + ": metric"),
                          io::json_field<double>(j["metric"], "value", label + ": metric")};
  if (j.contains("multimax")) {
    MMX_CHECK(j["multimax"].is_array(), label, ": multimax must be an array of sites");
    r.multimax.emplace();
    for (const nlohmann::json& site : j["multimax"])
      r.multimax->push_back(MultiMaxSiteValues::from_json(site, label + ": multimax"));
  }
  return r;
}

namespace {
// Which parameter went bad first (registration order), for the error a non-finite loss raises.
std::string first_non_finite_parameter(const Module& model) {
  for (const auto& [name, p] : model.named_parameters())
    for (float v : p.to_vector())
      if (!std::isfinite(v)) return cat(" (parameter '", name, "' holds ", v, ")");
  return " (every parameter is finite: the forward pass overflowed)";
}

// Backward from `loss` (whose value is `value`), clip the global gradient norm to `clip` (0: no
// clip), update and zero the gradients; `step` (1-based) names the step in errors. Under
// data-parallel training the loss and gradients are averaged over the ranks first. Returns the
// loss averaged over the ranks.
float guarded_optimizer_step(Tensor& loss, float value, Module& model, Optimizer& optimizer,
                             float clip, int64_t step) {
  distributed::Communicator& comm = distributed::world();
  // The global batch's loss, before the check: every rank then takes the same decision (a
  // rank that alone stopped would leave the others waiting), and logs the same figure.
  if (comm.size() > 1) value = static_cast<float>(comm.allreduce_sum(value) / comm.size());
  if (!std::isfinite(value)) {
    autograd::clear_tape();
    throw Error(cat("train: the loss became ", value, " at step ", step,
                    first_non_finite_parameter(model),
                    "; stopping (the last checkpoint is kept). Try a lower `lr` or `clip` 1"));
  }
  loss.backward();
  // Averaged before clipping, so the norm (and every update) is the global batch's on each rank.
  distributed::average_gradients(model.parameters(), comm);
  const float norm = clip_grad_norm(model.parameters(), clip > 0 ? clip : INFINITY);
  if (!std::isfinite(norm)) {
    for (const auto& [name, p] : model.named_parameters()) {
      const Tensor g = p.grad();
      if (!g.defined()) continue;
      for (float v : g.to_vector())
        if (!std::isfinite(v)) {
          optimizer.zero_grad();
          throw Error(cat("train: the gradient of '", name, "' became ", v, " at step ", step,
                          "; stopping (the last checkpoint is kept)"));
        }
    }
  }
  optimizer.step();
  optimizer.zero_grad();
  return value;
}

}  // namespace

void EvalRecord::add_attention(const std::string& prefix, const std::vector<AttentionMap>& maps) {
  for (size_t i = 0; i < maps.size(); ++i) {
    const AttentionMap& map = maps[i];
    const AttentionMeasures m =
        attention_measures(map.scores, map.probabilities, map.mask, map.causal, map.logits);
    attention_layers.push_back(prefix + std::to_string(i));
    sparsity.push_back(m.sparsity);
    multimodality.push_back(m.multimodality);
  }
  add_blocks(prefix, maps);
}

void EvalRecord::add_blocks(const std::string& prefix, const std::vector<AttentionMap>& maps) {
  for (size_t i = 0; i < maps.size(); ++i) {
    if (!maps[i].block_output.defined()) continue;
    blocks.push_back(prefix + std::to_string(i));
    token_similarity.push_back(nn::token_similarity(maps[i]));
  }
}

void EvalRecord::add_multimax(const Module& model) {
  multimax = multimax_site_values(model);
}

// ---------------------------------------------------------------- the skeleton

Trainer::Trainer(const OptimOptions& optim) : optim_(optim), schedule_(optim.schedule()) {}

Trainer::~Trainer() = default;

void Trainer::start_training() {
  optimizer_ = std::make_unique<AdamW>(model().named_parameters(), optim_.adamw());
  model().train();
}

void Trainer::restore_training(const data::Checkpoint& c, const std::filesystem::path& dir) {
  optimizer_->load_state_tensors(c.optimizer);
  step_ = c.step;
  running_ =
      RunningSums::from_json(checkpoint_field<nlohmann::json>(c.model_metadata, "running", dir));
}

nlohmann::json Trainer::shuffled_rng_json(const data::ShuffledBatches& batches,
                                          const Generator& dropout) {
  return {{"batches", batches.state().to_json()},
          {"dropout", data::generator_state_to_json(dropout.state())}};
}

void Trainer::restore_shuffled_rng(const data::Checkpoint& c, const std::filesystem::path& dir,
                                   data::ShuffledBatches& batches, Generator& dropout) {
  const auto rng = checkpoint_field<nlohmann::json>(c.model_metadata, "rng", dir);
  batches.set_state(data::ShuffledBatches::State::from_json(rng.at("batches")));
  dropout.set_state(data::generator_state_from_json(rng.at("dropout")));
}

float Trainer::train_step() {
  const auto start = std::chrono::steady_clock::now();
  const MatmulPrecisionGuard precision(optim_.matmul_precision());
  optimizer_->set_learning_rate(schedule_.lr_at(step_));
  Tensor loss = batch_loss();
  const float value =
      guarded_optimizer_step(loss, loss.item(), model(), *optimizer_, optim_.clip, step_ + 1);
  ++step_;
  running_.add(value, start);
  return value;
}

EvalRecord Trainer::evaluate() {
  const MatmulPrecisionGuard precision(optim_.matmul_precision());
  EvalRecord r;
  r.step = step_;
  r.lr = schedule_.lr_at(step_ > 0 ? step_ - 1 : 0);  // the last step's
  r.item_unit = item_unit();
  running_.report_and_reset(r, items_per_step());
  model().eval();
  {
    NoGrad no_grad;
    validate(r);
  }
  model().train();
  r.add_multimax(model());
  return r;
}

void Trainer::append_named(std::vector<NamedAttentionMap>& out, const std::string& prefix,
                           const std::vector<AttentionMap>& maps) {
  for (size_t i = 0; i < maps.size(); ++i) out.push_back({prefix + std::to_string(i), maps[i]});
}

std::vector<NamedAttentionMap> Trainer::validation_attention() {
  const MatmulPrecisionGuard precision(optim_.matmul_precision());
  model().eval();
  std::vector<NamedAttentionMap> maps;
  {
    NoGrad no_grad;
    maps = validation_attention_maps();
  }
  model().train();
  return maps;
}

std::vector<TaskMetric> Trainer::test(const TestOptions& options) {
  const MatmulPrecisionGuard precision(optim_.matmul_precision());
  model().eval();
  std::vector<TaskMetric> scores;
  {
    NoGrad no_grad;
    scores = test_scores(options);
  }
  model().train();
  return scores;
}

namespace {
constexpr const char* kDataKey = "data_fingerprint";  // where a checkpoint records its data

// The run's data path ("" for the task's default data, which is not fingerprinted).
std::string data_path(const nlohmann::json& options) {
  return options.contains("data") ? options["data"].get<std::string>() : "";
}
}  // namespace

void Trainer::save(const std::filesystem::path& dir) const {
  data::Checkpoint c;
  c.step = step_;
  c.model = model().state_dict();
  c.model_metadata = checkpoint_metadata();
  c.model_metadata["task"] = task();
  c.model_metadata["train_options"] = options_json();
  c.model_metadata["running"] = running_.to_json();
  // Read again at each save: a small cost next to the save for the data sets a user names.
  if (const std::string data = data_path(c.model_metadata["train_options"]); !data.empty())
    c.model_metadata[kDataKey] = data::fingerprint_data(data).to_json();
  c.optimizer = optimizer_->state_tensors();
  save_checkpoint(dir, c);
}

// ---------------------------------------------------------------- the tasks

const std::vector<const TaskEntry*>& task_table() {
  static const std::vector<const TaskEntry*> tasks = {&lm_task(), &vit_task(), &mt_task()};
  return tasks;
}

const std::vector<std::string>& trainer_tasks() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const TaskEntry* t : task_table()) out.push_back(t->name);
    return out;
  }();
  return names;
}

namespace {
// The row of `task`; an unknown task is an mmx::Error listing the tasks.
const TaskEntry& task_entry(const std::string& task) {
  std::string names;
  for (const TaskEntry* t : task_table()) {
    if (t->name == task) return *t;
    names += cat(names.empty() ? "" : ", ", t->name);
  }
  throw Error(cat("unknown task '", task, "' (choose one of ", names, ")"));
}

void check_data_parallel(const TaskEntry& task) {
  const int ranks = distributed::world().size();
  if (ranks == 1 || task.data_parallel) return;
  std::string supported;
  for (const TaskEntry* t : task_table())
    if (t->data_parallel) supported += cat(supported.empty() ? "" : " and ", t->name);
  throw Error(cat("train: data-parallel training (", ranks, " ranks) supports --task ", supported,
                  ", not ", task.name, "; run ", task.name, " without mpirun"));
}

constexpr const char* kOptionsKey = "train_options";  // where the skeleton saves the options
}  // namespace

nlohmann::json default_trainer_options(const std::string& task) {
  return task_entry(task).defaults();
}

void set_attention(const std::string& task, nlohmann::json& options, AttentionKind kind) {
  for (const std::string& field : task_entry(task).attention_fields)
    options[nlohmann::json::json_pointer(field)] = attention_kind_name(kind);
}

std::unique_ptr<Trainer> make_trainer(const std::string& task, const nlohmann::json& options) {
  const TaskEntry& entry = task_entry(task);
  nlohmann::json merged = merge_known_fields(entry.defaults(), options, task + " options");
  // Stored absolute: a resume started from another working directory reads the same data.
  if (const std::string data = merged.at("data").get<std::string>(); !data.empty())
    merged["data"] = std::filesystem::absolute(data).lexically_normal().string();
  check_data_parallel(entry);
  return entry.make(merged);
}

std::string checkpoint_task(const nlohmann::json& model_metadata) {
  if (!model_metadata.contains("task")) return "lm";  // runs saved before tasks existed
  const nlohmann::json& task = model_metadata["task"];
  MMX_CHECK(task.is_string(), "checkpoint: metadata field 'task' must be a string, got ",
            io::json_excerpt(task));
  return task.get<std::string>();
}

SavedRun read_saved_run(const std::filesystem::path& dir) {
  return saved_run(data::load_checkpoint(dir), dir);
}

SavedRun saved_run(const data::Checkpoint& c, const std::filesystem::path& dir) {
  const std::string task = task_entry(checkpoint_task(c.model_metadata)).name;
  return {task, c.step, checkpoint_field<nlohmann::json>(c.model_metadata, kOptionsKey, dir)};
}

std::unique_ptr<Trainer> resume_trainer(const std::filesystem::path& dir, int64_t extend_to_steps) {
  return resume_trainer(data::load_checkpoint(dir), dir, extend_to_steps);
}

std::unique_ptr<Trainer> resume_trainer(data::Checkpoint checkpoint,
                                        const std::filesystem::path& dir, int64_t extend_to_steps) {
  const TaskEntry& entry = task_entry(checkpoint_task(checkpoint.model_metadata));
  check_data_parallel(entry);
  // Checked before the task reads the data: changed data would at best fail with a less clear
  // error (a character outside the vocabulary), at worst train on silently.
  if (checkpoint.model_metadata.contains(kDataKey)) {
    const auto saved = data::DataFingerprint::from_json(checkpoint.model_metadata[kDataKey]);
    const std::string change = data::data_change(saved, data::fingerprint_data(saved.path));
    MMX_CHECK(change.empty(), "train: the data ", saved.path, " changed since checkpoint ",
              dir.string(), " was saved (", change,
              "); resume on the data the run was trained on, or start a new run without --resume");
  }
  if (extend_to_steps > 0) {
    nlohmann::json& options = checkpoint.model_metadata[kOptionsKey];
    auto optim = parse_options<OptimOptions>(options, "checkpoint " + dir.string());
    optim.extend_to(checkpoint.step, extend_to_steps);
    to_json(options, optim);  // the task's own fields stay as they were
  }
  return entry.resume(checkpoint, dir);
}

}  // namespace mmx::nn
