/// \file
/// VitTrainer: the "vit" Trainer. Trains a ViT classifier on Fashion-MNIST (IDX files), holding
/// the last `val_images` training images out for validation; `test` scores the 10k test images.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "nn/data/checkpoint.hpp"
#include "nn/data/image_dataset.hpp"
#include "nn/models/vit.hpp"
#include "nn/optim/adamw.hpp"
#include "nn/optim/lr_schedule.hpp"
#include "nn/optim/optim_options.hpp"
#include "nn/tasks/trainer.hpp"

namespace mmx::nn {

/// The defaults train the config examples/fashion_mnist_vit measured (patch 7, d 64, 4 layers,
/// batch 128, peak lr 2e-3, weight decay 0.05) for about five epochs of the 55k training images.
struct VitOptions : OptimOptions {
  /// This task's defaults for the shared fields.
  VitOptions() {
    batch = 128;
    steps = 2150;
    lr = 2e-3f;
    min_lr = 1e-4f;
    warmup = 100;
    weight_decay = 0.05f;
    eval_interval = 430;  // about one epoch
  }

  ViTConfig model;            ///< image_size, channels and classes are set from the data
  int64_t val_images = 5000;  ///< the last ones of the training set, never trained on
  /// Throws an mmx::Error naming the first bad field (as its command-line flag). `data`: the
  /// folder of the four IDX files; empty: Fashion-MNIST's Debian path.
  void validate() const;
};
/// nlohmann's ADL hook: the options as JSON (what checkpoints store).
void to_json(nlohmann::json& j, const VitOptions& options);
/// The inverse of to_json, validating the result.
void from_json(const nlohmann::json& j, VitOptions& options);

/// The "vit" Trainer (see the file comment).
class VitTrainer : public Trainer {
 public:
  /// A fresh run: loads the data and builds the model from `options`.
  explicit VitTrainer(const VitOptions& options);
  /// Continues the run saved in `checkpoint` (read from `dir`) bit for bit.
  static std::unique_ptr<VitTrainer> resume(const data::Checkpoint& checkpoint,
                                            const std::filesystem::path& dir);

  double items_per_step() const override { return static_cast<double>(options_.batch); }
  const char* item_unit() const override { return "img"; }
  const char* task() const override { return "vit"; }
  std::string attention_name() const override;
  std::string describe() const override;
  nlohmann::json options_json() const override { return options_; }
  /// The run's options.
  const VitOptions& options() const { return options_; }
  const ViT& model() const override { return *model_; }
  ViT& model() override { return *model_; }

 private:
  VitTrainer(const VitOptions& options, data::FashionMnist data);

  /// The next shuffled batch of training images (this rank's rows of it).
  Tensor batch_loss() override;
  /// Validation loss, accuracy and per-layer S/M on the held-out images.
  void validate(EvalRecord& r) override;
  /// Every layer's attention on the held-out images whose S and M validate() measures.
  std::vector<NamedAttentionMap> validation_attention_maps() override;
  /// Those images' attention maps, one per layer.
  std::vector<AttentionMap> measured_attention() const;
  /// "accuracy" on the test images.
  std::vector<TaskMetric> test_scores(const TestOptions& options) override;
  /// "config", "normalization" (the pixels' mean/std), "rng" (batch order and dropout).
  nlohmann::json checkpoint_metadata() const override;

  /// Mean loss and accuracy (percent) of images [start, start + count) of `dataset`.
  std::pair<double, double> score(const data::ImageDataset& dataset, int64_t start,
                                  int64_t count) const;
  int64_t train_images() const { return data_.train.size() - options_.val_images; }

  VitOptions options_;
  data::FashionMnist data_;
  std::unique_ptr<ViT> model_;
  data::ShuffledBatches batches_;
};

/// A trained ViT, for looking at it (`mmx attention --image`): the model in eval mode, the
/// folder of the images it was trained on, and its step. Nothing of the training run is rebuilt.
struct LoadedVit {
  /// the model
  std::unique_ptr<ViT> model;
  /// the run's --data (empty: Fashion-MNIST's Debian folder)
  std::string data;
  /// the training steps it had when saved
  int64_t step = 0;
};
/// The ViT of a checkpoint loaded from `checkpoint_dir`; another task's checkpoint is an
/// mmx::Error.
LoadedVit load_vit(const data::Checkpoint& checkpoint, const std::filesystem::path& checkpoint_dir);

}  // namespace mmx::nn
