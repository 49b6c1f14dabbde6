/// \file
/// Trainer: one training run of any task behind one interface -- "lm" (character GPT, LMTrainer),
/// "vit" (Fashion-MNIST ViT, VitTrainer), "mt" (German->English Seq2Seq, MTTrainer) -- so that
/// run_training, `mmx train/eval` and `mmx compare` drive every task the same way.
///
/// Using it from code (e.g. `mmx compare`: N runs of one task, differing in attention and seed):
///
///   nlohmann::json options = nn::default_trainer_options("vit");   // the task's defaults
///   options["steps"] = 500;                                       // any field, by its JSON name
///   nn::set_attention("vit", options, nn::AttentionKind::MultiMax);  // all of the run's attention
///   options["seed"] = 3;
///   std::unique_ptr<nn::Trainer> t = nn::make_trainer("vit", options);  // validates (mmx::Error)
///   nn::run_training(*t, out_dir, hooks);                          // log.jsonl + checkpoint
///   nn::EvalRecord last = ...;  // on_eval hook, or read_training_log + EvalRecord::from_json
///   std::vector<nn::TaskMetric> test = t->test({});                // the test split's scores
///
/// The tasks are the rows of one table (nn/tasks/task_table.hpp): name, defaults, make, resume.
/// A checkpoint's model metadata names its task ("task"; absent in older runs, meaning "lm"), so
/// resume_trainer(dir) rebuilds the right trainer. Every trainer resumes bit for bit (same seed,
/// same thread count): it saves model, optimizer, every random stream and its running sums.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/tensor.hpp"
#include "nn/layers/attention_map.hpp"
#include "nn/layers/multimax_sites.hpp"
#include "nn/models/gpt_config.hpp"
#include "nn/module.hpp"
#include "nn/optim/lr_schedule.hpp"
#include "nn/optim/optim_options.hpp"
#include "nn/optim/optimizer.hpp"
#include "nn/tasks/running_sums.hpp"

namespace mmx {
class Generator;
}
namespace mmx::data {
struct Checkpoint;
class ShuffledBatches;
}  // namespace mmx::data

namespace mmx::nn {

/// A task's score beyond the loss, higher is better, on a 0..100 scale: "accuracy" (vit: percent
/// of images classified right), "chrF" (mt: corpus chrF of greedy translations), "exact_match"
/// (mt: percent of translations equal to the reference).
struct TaskMetric {
  /// "accuracy", "chrF", "exact_match", ...
  std::string name;
  /// on a 0..100 scale
  double value = 0;
};

/// One evaluation during training: what run_training logs (one JSON line each) and reports.
struct EvalRecord {
  /// optimizer steps done when evaluated
  int64_t step = 0;
  double train_loss = 0;  ///< mean training loss since the previous evaluation
  double val_loss = 0;    ///< on the task's fixed validation data
  /// the learning rate of the last step
  double lr = 0;
  double items_per_s = 0;            ///< training throughput since the previous evaluation
  std::string item_unit;             ///< what an item is: "tok" (lm), "img" (vit), "pair" (mt)
  std::optional<TaskMetric> metric;  ///< vit: accuracy, mt: chrF; lm: none
  /// One entry per attention layer, in model order, averaged over the validation rows (the
  /// paper's S and M, each row's eps = the mean of its scores). Names: lm and vit "0", "1", ...;
  /// mt "enc.0", ..., "dec.0", ..., "cross.0", ... (encoder self, decoder self, cross-attention).
  /// Empty when the model does not expose its attention maps.
  std::vector<std::string> attention_layers;
  /// per layer, the paper's S
  std::vector<double> sparsity;
  /// per layer, the paper's M
  std::vector<double> multimodality;
  /// Every MultiMax's (t, r) at this evaluation (empty for a model without MultiMax); absent
  /// in logs written before it was recorded.
  std::optional<std::vector<MultiMaxSiteValues>> multimax;
  /// One entry per block, in model order: lm and vit "0", "1", ...; mt "enc.0", ..., "dec.0",
  /// ... Empty when the model does not expose its attention maps (and in older logs).
  std::vector<std::string> blocks;
  /// per block, the over-smoothing measure: the mean pairwise cosine similarity of the token
  /// representations after it, on the validation batch of S and M (nn/metrics/token_similarity.hpp)
  std::vector<double> token_similarity;

  /// Keys: step, train_loss, val_loss, lr, items_per_s, item_unit, metric ({name, value}, only
  /// when present), attention_layers, attention_sparsity, attention_multimodality, multimax
  /// (when present: one MultiMaxSiteValues::to_json per site), blocks, token_similarity (the
  /// last three optional when read: older logs lack them).
  nlohmann::json to_json() const;
  /// The inverse of to_json().
  static EvalRecord from_json(const nlohmann::json& json);
  /// Appends each map's S and M, naming layer i `prefix` + i ("" for lm and vit; "enc.",
  /// "dec.", "cross." for mt), and the token similarity of the blocks they hold (add_blocks).
  void add_attention(const std::string& prefix, const std::vector<AttentionMap>& maps);
  /// Appends the token similarity after each block whose output a map holds, naming it as
  /// add_attention names the map.
  void add_blocks(const std::string& prefix, const std::vector<AttentionMap>& maps);
  /// Records every MultiMax (t, r) of `model` in `multimax`.
  void add_multimax(const Module& model);
};

/// One attention layer's map, named as in EvalRecord::attention_layers ("0", "enc.1", ...).
struct NamedAttentionMap {
  /// lm and vit "0", "1", ...; mt "enc.0", ..., "dec.0", ..., "cross.0", ...
  std::string layer;
  /// its scores, weights, mask and (for MultiMax) t and r
  AttentionMap map;
};

/// What `test` reports on: beam > 1 adds beam-search scores for mt (ignored by lm and vit);
/// limit > 0 scores only the first `limit` test items (images, pairs; lm ignores it).
struct TestOptions {
  /// beam size for mt; <= 1: greedy only
  int64_t beam = 0;
  /// score only the first `limit` test items; 0: all
  int64_t limit = 0;
};

/// One training run of any task: the skeleton every task shares (see the file comment). It owns
/// the step counter, the learning-rate schedule, AdamW, the precision guard, the guarded step
/// and the running sums between evaluations; a task supplies its batch loss, its validation, its
/// test scores, its model and what it adds to a checkpoint.
class Trainer {
 public:
  virtual ~Trainer();

  /// One optimizer step on a fresh batch; returns its loss (averaged over the ranks under
  /// data-parallel training). A non-finite loss or gradient throws an mmx::Error naming the
  /// step before anything is updated.
  float train_step();
  /// Validation loss, the task metric and per-layer attention S/M; resets the running sums.
  /// Leaves the training streams untouched, so evaluating does not change the loss curve.
  EvalRecord evaluate();
  /// Every attention layer's map on the fixed validation batch whose S and M evaluate()
  /// reports (the same rows every time): model in eval mode, no tape.
  std::vector<NamedAttentionMap> validation_attention();
  /// Scores on the task's test split (held out from training and validation): lm "val_loss"
  /// (mean over the whole validation split; the corpus has no test split), vit "accuracy",
  /// mt "chrF" and "exact_match" (greedy), plus "chrF_beam<K>", "exact_match_beam<K>" for beam K.
  std::vector<TaskMetric> test(const TestOptions& options);
  /// Writes model + optimizer + options + running sums and the task's own state (RNG streams,
  /// vocabulary, ...) into `dir`, atomically, with model metadata "task" = task().
  void save(const std::filesystem::path& dir) const;

  int64_t step() const { return step_; }                          ///< optimizer steps done
  int64_t total_steps() const { return optim_.steps; }            ///< where the run ends
  int64_t eval_interval() const { return optim_.eval_interval; }  ///< steps between evaluations

  virtual double items_per_step() const = 0;  ///< for throughput: tokens, images or pairs
  virtual const char* item_unit() const = 0;  ///< "tok", "img", "pair"
  virtual const char* task() const = 0;       ///< "lm", "vit", "mt"
  /// "softmax", "multimax", ...; mt with differing kinds "enc-softmax_dec-multimax_cross-softmax".
  virtual std::string attention_name() const = 0;
  /// One line for the console: parameters, attention, shape.
  virtual std::string describe() const = 0;
  /// The run's options in the JSON form make_trainer reads (a resumed run's are the checkpoint's).
  virtual nlohmann::json options_json() const = 0;
  /// The model being trained.
  virtual const Module& model() const = 0;
  /// The model being trained.
  virtual Module& model() = 0;

 protected:
  /// `optim`: the run's optimisation options (the part of the task's options this base reads).
  explicit Trainer(const OptimOptions& optim);
  /// Called by the task's constructor once its model exists: AdamW over its parameters, and
  /// the model in training mode.
  void start_training();
  /// A resumed run: the step, AdamW's state and the running sums saved in `c` (read from `dir`).
  void restore_training(const data::Checkpoint& c, const std::filesystem::path& dir);

  /// The "rng" metadata block of a task that draws shuffled batches (vit, mt): the batch order's
  /// position ("batches") and the dropout stream ("dropout").
  static nlohmann::json shuffled_rng_json(const data::ShuffledBatches& batches,
                                          const Generator& dropout);
  /// Restores what shuffled_rng_json saved in `c`'s metadata (read from `dir`, for errors).
  static void restore_shuffled_rng(const data::Checkpoint& c, const std::filesystem::path& dir,
                                   data::ShuffledBatches& batches, Generator& dropout);

  /// The task's share of a step: this rank's part of the next batch, through the model; the
  /// loss to minimise.
  virtual Tensor batch_loss() = 0;
  /// Fills r.val_loss, r.metric and the attention measures (model in eval mode, no tape).
  virtual void validate(EvalRecord& r) = 0;
  /// The attention maps of the fixed validation batch (model in eval mode, no tape).
  virtual std::vector<NamedAttentionMap> validation_attention_maps() = 0;
  /// Appends `maps` to `out`, naming map i `prefix` + i (as EvalRecord::add_attention).
  static void append_named(std::vector<NamedAttentionMap>& out, const std::string& prefix,
                           const std::vector<AttentionMap>& maps);
  /// The test split's scores (model in eval mode).
  virtual std::vector<TaskMetric> test_scores(const TestOptions& options) = 0;
  /// What the task adds to the checkpoint's model metadata ("config", "rng", "vocab", ...).
  virtual nlohmann::json checkpoint_metadata() const = 0;

 private:
  OptimOptions optim_;
  WarmupCosineSchedule schedule_;
  std::unique_ptr<Optimizer> optimizer_;
  int64_t step_ = 0;
  RunningSums running_;
};

/// The task names make_trainer accepts: {"lm", "vit", "mt"}.
const std::vector<std::string>& trainer_tasks();
/// The task's default options as JSON; every field present.
nlohmann::json default_trainer_options(const std::string& task);
/// Sets every attention normalizer of a task's options JSON (mt: encoder, decoder and cross).
void set_attention(const std::string& task, nlohmann::json& options, AttentionKind kind);
/// A new run. `options` may leave fields out (they keep the task's defaults); unknown tasks,
/// unknown or mistyped fields and invalid values are mmx::Errors naming them.
std::unique_ptr<Trainer> make_trainer(const std::string& task, const nlohmann::json& options);
/// Continues the run saved in `dir`, whatever its task. `extend_to_steps` > 0 and beyond the
/// run's planned steps extends it to that many (OptimOptions::extend_to: the optimizer state
/// goes on, the learning rate continues without a jump); 0 resumes it as it was, bit for bit.
std::unique_ptr<Trainer> resume_trainer(const std::filesystem::path& dir,
                                        int64_t extend_to_steps = 0);
/// The same from a checkpoint already loaded from `dir` (`mmx train --resume` reads it once).
std::unique_ptr<Trainer> resume_trainer(data::Checkpoint checkpoint,
                                        const std::filesystem::path& dir,
                                        int64_t extend_to_steps = 0);
/// What a checkpoint directory holds, without building its trainer: for comparing a resumed
/// run's options with the ones a user gives again.
struct SavedRun {
  std::string task;        ///< "lm", "vit", "mt"
  int64_t step = 0;        ///< optimizer steps done
  nlohmann::json options;  ///< the run's options, as make_trainer reads them
};
/// The run saved in `dir` (an mmx::Error when it holds no loadable checkpoint).
SavedRun read_saved_run(const std::filesystem::path& dir);
/// The run a checkpoint already loaded from `dir` holds.
SavedRun saved_run(const data::Checkpoint& checkpoint, const std::filesystem::path& dir);
/// The task a checkpoint's model metadata names ("lm" when it names none).
std::string checkpoint_task(const nlohmann::json& model_metadata);

}  // namespace mmx::nn
