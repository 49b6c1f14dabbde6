/// \file
/// LMTrainer: trains a character-level GPT on a text corpus. It owns the corpus, tokenizer, model,
/// AdamW, schedule and every random stream, so that a checkpoint holds the whole run and
/// `resume` continues it bit for bit (same seed, same thread count).
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/random.hpp"
#include "nn/data/char_tokenizer.hpp"
#include "nn/data/checkpoint.hpp"
#include "nn/data/text_dataset.hpp"
#include "nn/models/gpt.hpp"
#include "nn/optim/optim_options.hpp"
#include "nn/tasks/trainer.hpp"

namespace mmx::nn {

/// Everything a run needs besides the data. Stored in the checkpoint, so a resumed run keeps it.
struct TrainOptions : OptimOptions {
  /// This task's defaults for the shared fields.
  TrainOptions() {
    batch = 16;
    steps = 1000;
    lr = 2e-3f;
    min_lr = 2e-4f;
    warmup = 50;
    weight_decay = 0.1f;
    eval_interval = 100;
  }

  GPTConfig model;          ///< `vocab` is set from the corpus
  int64_t eval_batch = 32;  ///< rows of the fixed validation batch
  /// Throws an mmx::Error naming the first bad field. `data`: a file or folder of UTF-8 text;
  /// empty: the fortunes package.
  void validate() const;
};
/// nlohmann's ADL hook: the options as JSON (what checkpoints store).
void to_json(nlohmann::json& j, const TrainOptions& options);
/// The inverse of to_json, validating the result.
void from_json(const nlohmann::json& j, TrainOptions& options);

/// The "lm" Trainer. Its options JSON is TrainOptions's.
class LMTrainer : public Trainer {
 public:
  /// A new run: reads the corpus, builds the vocabulary and the model.
  explicit LMTrainer(const TrainOptions& options);
  /// Continues the run saved in `checkpoint_dir`; the options come from the checkpoint.
  static std::unique_ptr<LMTrainer> resume(const std::filesystem::path& checkpoint_dir);
  /// The same from a checkpoint already loaded from `dir` (resume_trainer reads it once).
  static std::unique_ptr<LMTrainer> resume(const data::Checkpoint& checkpoint,
                                           const std::filesystem::path& dir);

  double items_per_step() const override { return static_cast<double>(tokens_per_step()); }
  const char* item_unit() const override { return "tok"; }
  const char* task() const override { return "lm"; }
  std::string attention_name() const override;
  std::string describe() const override;
  nlohmann::json options_json() const override { return options_; }
  /// The run's options.
  const TrainOptions& options() const { return options_; }
  const GPT& model() const override { return *model_; }
  GPT& model() override { return *model_; }
  /// The corpus's character ids.
  const data::CharTokenizer& tokenizer() const { return tokenizer_; }
  /// batch x seq_len.
  int64_t tokens_per_step() const { return options_.batch * options_.model.seq_len; }

 private:
  struct EncodedCorpus {
    data::CharTokenizer tokenizer;
    std::vector<int64_t> ids;
  };
  /// Reads the corpus and encodes it with `vocab`, or with a vocabulary built from it when null.
  static EncodedCorpus encode_corpus(const std::string& path, const data::CharTokenizer* vocab);
  LMTrainer(const TrainOptions& options, EncodedCorpus corpus);

  /// A random batch of windows of the training split (this rank's rows of it).
  Tensor batch_loss() override;
  /// Loss and per-layer S/M on a fixed batch of the validation split.
  void validate(EvalRecord& r) override;
  /// Every layer's attention on validate()'s fixed batch.
  std::vector<NamedAttentionMap> validation_attention_maps() override;
  /// The fixed validation batch: the first eval_batch windows of the split (fewer if short).
  data::TokenBatch validation_batch() const;
  /// "val_loss": the mean over every whole window of the validation split.
  std::vector<TaskMetric> test_scores(const TestOptions& options) override;
  /// "config", "vocab", "rng" (data and dropout streams).
  nlohmann::json checkpoint_metadata() const override;

  TrainOptions options_;
  data::CharTokenizer tokenizer_;
  data::TextDataset dataset_;
  std::unique_ptr<GPT> model_;
  Generator data_gen_;
};

/// Loads a trained model (for sampling, attention pictures): the GPT and its tokenizer.
struct LoadedModel {
  /// the GPT
  std::unique_ptr<GPT> model;
  /// its character ids
  data::CharTokenizer tokenizer;
  /// the training steps it had when saved
  int64_t step = 0;
};
/// Loads the GPT and tokenizer saved in `checkpoint_dir`.
LoadedModel load_model(const std::filesystem::path& checkpoint_dir);

}  // namespace mmx::nn
