/// \file
/// MTTrainer: the "mt" Trainer. Trains a character-level Seq2Seq on German->English phrase pairs
/// (a "ding" dictionary, Debian's trans-de-en by default) with teacher forcing; evaluates with
/// greedy chrF on a fixed slice of the valid split, and tests with chrF and exact match.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "nn/data/checkpoint.hpp"
#include "nn/data/image_dataset.hpp"
#include "nn/data/phrase_pairs.hpp"
#include "nn/models/seq2seq.hpp"
#include "nn/optim/adamw.hpp"
#include "nn/optim/lr_schedule.hpp"
#include "nn/optim/optim_options.hpp"
#include "nn/tasks/mt/translation_vocab.hpp"
#include "nn/tasks/trainer.hpp"

namespace mmx::nn {

/// The defaults train in a few minutes on 2 cores: a 2+2-layer, d 128 model on phrases of up to
/// 16 characters.
struct MTOptions : OptimOptions {
  /// This task's defaults for the shared fields.
  MTOptions() {
    batch = 64;
    steps = 2000;
    lr = 2e-3f;
    min_lr = 1e-4f;
    warmup = 100;
    weight_decay = 0.01f;
    eval_interval = 500;
  }

  Seq2SeqConfig model = small_translator();  ///< vocab and maximum lengths are set from the data
  int64_t eval_pairs = 200;  ///< the first ones of the valid split: val loss and greedy chrF
  int64_t max_chars = 16;    ///< longest phrase kept, code points per side
  /// Throws an mmx::Error naming the first bad field (as its command-line flag). `data`: a ding
  /// dictionary file; empty: data::kDebianDeEnPath. `seed` does not change the split (always
  /// seed 0), so runs of different seeds are scored on the same pairs.
  void validate() const;

  /// The default model: 2 encoder and 2 decoder layers.
  static Seq2SeqConfig small_translator() {
    Seq2SeqConfig c;
    c.encoder_layers = 2;
    c.decoder_layers = 2;
    return c;
  }
};
/// nlohmann's ADL hook: the options as JSON (what checkpoints store).
void to_json(nlohmann::json& j, const MTOptions& options);
/// The inverse of to_json, validating the result.
void from_json(const nlohmann::json& j, MTOptions& options);

/// The "mt" Trainer (see the file comment).
class MTTrainer : public Trainer {
 public:
  /// A fresh run: reads the phrase pairs and builds the model from `options`.
  explicit MTTrainer(const MTOptions& options);
  /// Continues the run saved in `checkpoint` (read from `dir`) bit for bit.
  static std::unique_ptr<MTTrainer> resume(const data::Checkpoint& checkpoint,
                                           const std::filesystem::path& dir);

  double items_per_step() const override { return static_cast<double>(options_.batch); }
  const char* item_unit() const override { return "pair"; }
  const char* task() const override { return "mt"; }
  /// One kind when all three agree, else "enc-<kind>_dec-<kind>_cross-<kind>".
  std::string attention_name() const override;
  std::string describe() const override;
  nlohmann::json options_json() const override { return options_; }
  /// The run's options.
  const MTOptions& options() const { return options_; }
  const Seq2Seq& model() const override { return *model_; }
  Seq2Seq& model() override { return *model_; }
  /// The model's character ids.
  const TranslationVocab& vocab() const { return vocab_; }

 private:
  MTTrainer(const MTOptions& options, data::PhrasePairSplits pairs);
  /// `vocab`: the checkpoint's when resuming, so the embeddings keep their characters.
  MTTrainer(const MTOptions& options, data::PhrasePairSplits pairs, TranslationVocab vocab);

  /// The next shuffled batch of phrase pairs.
  Tensor batch_loss() override;
  /// Validation loss, chrF of greedy translations and per-layer S/M on the first valid pairs.
  void validate(EvalRecord& r) override;
  /// Every attention's maps (encoder self, decoder self, cross) on validate()'s pairs.
  std::vector<NamedAttentionMap> validation_attention_maps() override;
  /// "chrF" and "exact_match", greedy and with beam search when options.beam > 1.
  std::vector<TaskMetric> test_scores(const TestOptions& options) override;
  /// "config", "vocab", "rng" (batch order and dropout).
  nlohmann::json checkpoint_metadata() const override;

  MTOptions options_;
  data::PhrasePairSplits pairs_;
  TranslationVocab vocab_;
  std::unique_ptr<Seq2Seq> model_;
  data::ShuffledBatches batches_;
};

/// A trained translator, for `mmx translate`: the model (in eval mode) and its vocabulary.
struct LoadedTranslator {
  /// the translator
  std::unique_ptr<Seq2Seq> model;
  /// its character ids
  TranslationVocab vocab;
  /// the training steps it had when saved
  int64_t step = 0;
};
/// Loads the translator saved in `checkpoint_dir`.
LoadedTranslator load_translator(const std::filesystem::path& checkpoint_dir);

/// The translation of `text`: greedy when beam <= 1, else beam search of that width. Characters
/// the vocabulary lacks and texts longer than the model's sources are mmx::Errors.
std::string translate(const LoadedTranslator& translator, std::string_view text, int64_t beam);

}  // namespace mmx::nn
