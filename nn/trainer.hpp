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
///   nn::EvalRecord last = ...;  // from the on_eval hook, or read_training_log +
///   EvalRecord::from_json std::vector<nn::TaskMetric> test = t->test({});              // the test
///   split's scores
///
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

#include "nn/gpt_config.hpp"
#include "nn/module.hpp"

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

  /// Keys: step, train_loss, val_loss, lr, items_per_s, item_unit, metric ({name, value}, only
  /// when present), attention_layers, attention_sparsity, attention_multimodality.
  nlohmann::json to_json() const;
  /// The inverse of to_json().
  static EvalRecord from_json(const nlohmann::json& json);
};

/// What `test` reports on: beam > 1 adds beam-search scores for mt (ignored by lm and vit);
/// limit > 0 scores only the first `limit` test items (images, pairs; lm ignores it).
struct TestOptions {
  /// beam size for mt; <= 1: greedy only
  int64_t beam = 0;
  /// score only the first `limit` test items; 0: all
  int64_t limit = 0;
};

/// One training run of any task (see the file comment).
class Trainer {
 public:
  virtual ~Trainer() = default;

  /// One optimizer step on a fresh batch; returns its loss. A non-finite loss or gradient throws
  /// an mmx::Error naming the step before anything is updated.
  virtual float train_step() = 0;
  /// Validation loss, the task metric and per-layer attention S/M; resets the running sums.
  /// Leaves the training streams untouched, so evaluating does not change the loss curve.
  virtual EvalRecord evaluate() = 0;
  /// Writes model + optimizer + every RNG state + options (+ vocabulary, normalization) into
  /// `dir`, atomically, with model metadata "task" = task().
  virtual void save(const std::filesystem::path& dir) const = 0;
  /// Scores on the task's test split (held out from training and validation): lm "val_loss"
  /// (mean over the whole validation split; the corpus has no test split), vit "accuracy",
  /// mt "chrF" and "exact_match" (greedy), plus "chrF_beam<K>", "exact_match_beam<K>" for beam K.
  virtual std::vector<TaskMetric> test(const TestOptions& options) = 0;

  virtual int64_t step() const = 0;           ///< optimizer steps done
  virtual int64_t total_steps() const = 0;    ///< where the run ends
  virtual int64_t eval_interval() const = 0;  ///< steps between evaluations and checkpoints
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
/// What a checkpoint directory holds, without building its trainer: for comparing a resumed
/// run's options with the ones a user gives again.
struct SavedRun {
  std::string task;        ///< "lm", "vit", "mt"
  int64_t step = 0;        ///< optimizer steps done
  nlohmann::json options;  ///< the run's options, as make_trainer reads them
};
/// The run saved in `dir` (an mmx::Error when it holds no loadable checkpoint).
SavedRun read_saved_run(const std::filesystem::path& dir);
/// The task a checkpoint's model metadata names ("lm" when it names none).
std::string checkpoint_task(const nlohmann::json& model_metadata);

}  // namespace mmx::nn
