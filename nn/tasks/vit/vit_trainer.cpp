#include "nn/tasks/vit/vit_trainer.hpp"

#include <algorithm>
#include <cmath>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/ops.hpp"
#include "nn/distributed/data_parallel.hpp"
#include "nn/tasks/options_json.hpp"
#include "nn/tasks/task_table.hpp"

namespace mmx::nn {

// ---------------------------------------------------------------- options

void VitOptions::validate() const {
  model.validate();
  OptimOptions::validate();
  MMX_CHECK(val_images >= 1, "train: `val_images` (held-out images) must be at least 1, got ",
            val_images);
}

void to_json(nlohmann::json& j, const VitOptions& o) {
  j = {{"model", o.model}, {"val_images", o.val_images}};
  to_json(j, static_cast<const OptimOptions&>(o));
}

void from_json(const nlohmann::json& j, VitOptions& o) {
  from_json(j, static_cast<OptimOptions&>(o));
  o.model = j.at("model").get<ViTConfig>();
  j.at("val_images").get_to(o.val_images);
}

// ---------------------------------------------------------------- set-up

namespace {
data::FashionMnist load_images(const VitOptions& o) {
  return data::load_fashion_mnist(o.data.empty() ? data::kFashionMnistDir : o.data);
}

// The image geometry comes from the data, as the LM's vocabulary comes from its corpus.
VitOptions with_data(VitOptions o, const data::FashionMnist& data) {
  const Shape shape = data.train.image_shape();  // [C, H, W]
  MMX_CHECK(shape[1] == shape[2], "train: the images must be square, got ", to_string(shape));
  o.model.channels = shape[0];
  o.model.image_size = shape[1];
  o.model.classes = data.train.classes();
  o.validate();
  MMX_CHECK(o.val_images + o.batch <= data.train.size(), "train: `val_images` (", o.val_images,
            " held-out images) plus `batch` (", o.batch, ") exceeds the ", data.train.size(),
            " training images");
  return o;
}

uint64_t batches_seed(uint64_t seed) {
  return seed ^ 0xBA7C'4E50ull;
}

// Images per forward pass when scoring: bounds the attention maps' memory.
constexpr int64_t kScoreChunk = 500;
// Held-out images whose attention S/M the evaluation measures.
constexpr int64_t kMeasuredImages = 256;
}  // namespace

VitTrainer::VitTrainer(const VitOptions& options, data::FashionMnist data)
    : Trainer(options),
      options_(with_data(options, data)),
      data_(std::move(data)),
      batches_(data_.train.size() - options_.val_images, options_.batch,
               batches_seed(options_.seed)) {
  distributed::rank_rows(options_.batch, distributed::world());  // refuses a batch N cannot split
  model_ = std::make_unique<ViT>(options_.model, options_.seed);
  start_training();
}

VitTrainer::VitTrainer(const VitOptions& options) : VitTrainer(options, load_images(options)) {}

// ---------------------------------------------------------------- training

Tensor VitTrainer::batch_loss() {
  // Data-parallel: this rank's share of the global batch (all of it on a single process).
  distributed::Communicator& comm = distributed::world();
  const distributed::RankRows share = distributed::rank_rows(options_.batch, comm);
  const data::ImageBatch b = data_.train.gather(
      batches_.next().subspan(static_cast<size_t>(share.begin), static_cast<size_t>(share.count)));
  const distributed::RankDropoutStream dropout(model_->dropout_generator(), comm);
  return model_->loss(b.images, b.labels);
}

std::pair<double, double> VitTrainer::score(const data::ImageDataset& dataset, int64_t start,
                                            int64_t count) const {
  NoGrad no_grad;
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t first = start; first < start + count; first += kScoreChunk) {
    const int64_t n = std::min(kScoreChunk, start + count - first);
    const data::ImageBatch b = dataset.range(first, n);
    const Tensor logits = model_->forward(b.images);
    loss_sum += cross_entropy(logits, b.labels).item() * static_cast<double>(n);
    const std::vector<float> values = logits.contiguous().to_vector();
    const int64_t classes = logits.size(1);
    for (int64_t i = 0; i < n; ++i) {
      const auto row = values.begin() + i * classes;
      correct += std::max_element(row, row + classes) - row == b.labels[static_cast<size_t>(i)];
    }
  }
  const auto total = static_cast<double>(count);
  return {loss_sum / total, 100.0 * static_cast<double>(correct) / total};
}

void VitTrainer::validate(EvalRecord& r) {
  const auto [loss, accuracy] = score(data_.train, train_images(), options_.val_images);
  r.val_loss = loss;
  r.metric = TaskMetric{"accuracy", accuracy};
  r.add_attention("", measured_attention());
}

std::vector<AttentionMap> VitTrainer::measured_attention() const {
  std::vector<AttentionMap> maps;
  model_->forward(
      data_.train.range(train_images(), std::min(kMeasuredImages, options_.val_images)).images,
      &maps);
  return maps;
}

std::vector<NamedAttentionMap> VitTrainer::validation_attention_maps() {
  std::vector<NamedAttentionMap> out;
  append_named(out, "", measured_attention());
  return out;
}

std::vector<TaskMetric> VitTrainer::test_scores(const TestOptions& options) {
  const int64_t count =
      options.limit > 0 ? std::min(options.limit, data_.test.size()) : data_.test.size();
  return {{"accuracy", score(data_.test, 0, count).second}};
}

std::string VitTrainer::attention_name() const {
  return attention_kind_name(options_.model.attention.kind);
}

std::string VitTrainer::describe() const {
  const ViTConfig& m = options_.model;
  return cat("model: ", model_->parameter_count(), " parameters, ", attention_name(),
             " attention, ", m.layers, " layers x d ", m.d_model,
             m.multimax_logits ? ", MultiMax output logits" : "", ", patch ", m.patch_size, " (",
             m.tokens(), " tokens); ", train_images(), " training images, ", options_.val_images,
             " held out", options_.precision == "bf16" ? "; bf16 matmuls" : "");
}

// ---------------------------------------------------------------- checkpoints

nlohmann::json VitTrainer::checkpoint_metadata() const {
  return {{"config", options_.model},
          {"normalization", {{"mean", data_.normalization.mean}, {"std", data_.normalization.std}}},
          {"rng", shuffled_rng_json(batches_, model_->dropout_generator())}};
}

std::unique_ptr<VitTrainer> VitTrainer::resume(const data::Checkpoint& c,
                                               const std::filesystem::path& dir) {
  const auto options = saved_options<VitOptions>(c.model_metadata, dir);
  std::unique_ptr<VitTrainer> t(new VitTrainer(options, load_images(options)));
  // The pixels are normalized by statistics measured on the training images: different ones
  // mean different data, and the weights would no longer fit it.
  const auto saved = checkpoint_field<nlohmann::json>(c.model_metadata, "normalization", dir);
  MMX_CHECK(saved.at("mean").get<float>() == t->data_.normalization.mean &&
                saved.at("std").get<float>() == t->data_.normalization.std,
            "train: the images in ", options.data.empty() ? data::kFashionMnistDir : options.data,
            " are not the ones checkpoint ", dir.string(), " was trained on (pixel mean/std ",
            t->data_.normalization.mean, "/", t->data_.normalization.std, ", saved ",
            saved.at("mean").get<float>(), "/", saved.at("std").get<float>(), ")");
  t->model_->load_state_dict(c.model);
  t->restore_training(c, dir);
  restore_shuffled_rng(c, dir, t->batches_, t->model_->dropout_generator());
  return t;
}

LoadedVit load_vit(const data::Checkpoint& c, const std::filesystem::path& dir) {
  const std::string task = checkpoint_task(c.model_metadata);
  MMX_CHECK(task == "vit", "load_vit: ", dir.string(), " holds a '", task, "' run, not a ViT");
  const auto options = saved_options<VitOptions>(c.model_metadata, dir);
  LoadedVit v{std::make_unique<ViT>(options.model), options.data, c.step};
  v.model->load_state_dict(c.model);
  v.model->eval();
  return v;
}

// ---------------------------------------------------------------- the task table's row

const TaskEntry& vit_task() {
  static const TaskEntry entry{
      "vit",
      [] { return nlohmann::json(VitOptions{}); },
      [](const nlohmann::json& options) -> std::unique_ptr<Trainer> {
        return std::make_unique<VitTrainer>(parse_options<VitOptions>(options, "vit options"));
      },
      [](const data::Checkpoint& c, const std::filesystem::path& dir) -> std::unique_ptr<Trainer> {
        return VitTrainer::resume(c, dir);
      },
      {"/model/attention"},
      /*data_parallel=*/true};
  return entry;
}

}  // namespace mmx::nn
