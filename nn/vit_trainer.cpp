#include "nn/vit_trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/ops.hpp"
#include "engine/precision.hpp"
#include "nn/distributed/data_parallel.hpp"

namespace mmx::nn {

// ---------------------------------------------------------------- options

void VitOptions::validate() const {
  model.validate();
  OptimOptions::validate();
  MMX_CHECK(val_images >= 1, "train: --eval-batch (held-out images) must be at least 1, got ",
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
  MMX_CHECK(o.val_images + o.batch <= data.train.size(), "train: --eval-batch (", o.val_images,
            " held-out images) plus --batch (", o.batch, ") exceeds the ", data.train.size(),
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
    : options_(with_data(options, data)),
      data_(std::move(data)),
      schedule_(options_.schedule()),
      batches_(data_.train.size() - options_.val_images, options_.batch,
               batches_seed(options_.seed)) {
  distributed::rank_rows(options_.batch, distributed::world());  // refuses a batch N cannot split
  model_ = std::make_unique<ViT>(options_.model, options_.seed);
  optimizer_ = std::make_unique<AdamW>(model_->named_parameters(), options_.adamw());
  model_->train();
}

VitTrainer::VitTrainer(const VitOptions& options) : VitTrainer(options, load_images(options)) {}

// ---------------------------------------------------------------- training

float VitTrainer::train_step() {
  const auto start = std::chrono::steady_clock::now();
  const MatmulPrecisionGuard precision(options_.matmul_precision());
  optimizer_->set_learning_rate(schedule_.lr_at(step_));
  // Data-parallel: this rank's share of the global batch (all of it on a single process).
  distributed::Communicator& comm = distributed::world();
  const distributed::RankRows share = distributed::rank_rows(options_.batch, comm);
  const data::ImageBatch b = data_.train.gather(
      batches_.next().subspan(static_cast<size_t>(share.begin), static_cast<size_t>(share.count)));
  const distributed::RankDropoutStream dropout(model_->dropout_generator(), comm);
  Tensor loss = model_->loss(b.images, b.labels);
  const float value =
      guarded_optimizer_step(loss, loss.item(), *model_, *optimizer_, options_.clip, step_ + 1);
  ++step_;
  running_.add(value, start);
  return value;
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

EvalRecord VitTrainer::evaluate() {
  const MatmulPrecisionGuard precision(options_.matmul_precision());
  EvalRecord r;
  r.step = step_;
  r.lr = schedule_.lr_at(step_ > 0 ? step_ - 1 : 0);
  r.item_unit = item_unit();
  running_.report_and_reset(r, items_per_step());
  model_->eval();
  const auto [loss, accuracy] = score(data_.train, train_images(), options_.val_images);
  r.val_loss = loss;
  r.metric = TaskMetric{"accuracy", accuracy};
  {
    NoGrad no_grad;
    std::vector<AttentionMap> maps;
    model_->forward(
        data_.train.range(train_images(), std::min(kMeasuredImages, options_.val_images)).images,
        &maps);
    add_attention_measures(r, "", maps);
  }
  model_->train();
  return r;
}

std::vector<TaskMetric> VitTrainer::test(const TestOptions& options) {
  const MatmulPrecisionGuard precision(options_.matmul_precision());
  model_->eval();
  const int64_t count =
      options.limit > 0 ? std::min(options.limit, data_.test.size()) : data_.test.size();
  const double accuracy = score(data_.test, 0, count).second;
  model_->train();
  return {{"accuracy", accuracy}};
}

std::string VitTrainer::attention_name() const {
  return attention_kind_name(options_.model.attention);
}

std::string VitTrainer::describe() const {
  const ViTConfig& m = options_.model;
  return cat("model: ", model_->parameter_count(), " parameters, ", attention_name(),
             " attention, ", m.layers, " layers x d ", m.d_model, ", patch ", m.patch_size, " (",
             m.tokens(), " tokens); ", train_images(), " training images, ", options_.val_images,
             " held out", options_.precision == "bf16" ? "; bf16 matmuls" : "");
}

// ---------------------------------------------------------------- checkpoints

void VitTrainer::save(const std::filesystem::path& dir) const {
  data::Checkpoint c;
  c.step = step_;
  c.model = model_->state_dict();
  c.model_metadata = {
      {"task", task()},
      {"config", options_.model},
      {"train_options", options_},
      {"normalization", {{"mean", data_.normalization.mean}, {"std", data_.normalization.std}}},
      {"rng",
       {{"batches", batches_.state().to_json()},
        {"dropout", data::generator_state_to_json(model_->dropout_generator().state())}}},
      {"running", running_.to_json()}};
  c.optimizer = optimizer_->state_tensors();
  save_checkpoint(dir, c);
}

std::unique_ptr<VitTrainer> VitTrainer::resume(const data::Checkpoint& c,
                                               const std::filesystem::path& dir) {
  const auto options = checkpoint_field<VitOptions>(c.model_metadata, "train_options", dir);
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
  t->optimizer_->load_state_tensors(c.optimizer);
  t->step_ = c.step;
  const auto rng = checkpoint_field<nlohmann::json>(c.model_metadata, "rng", dir);
  t->batches_.set_state(data::ShuffledBatches::State::from_json(rng.at("batches")));
  t->model_->dropout_generator().set_state(data::generator_state_from_json(rng.at("dropout")));
  t->running_ =
      RunningSums::from_json(checkpoint_field<nlohmann::json>(c.model_metadata, "running", dir));
  return t;
}

// ---------------------------------------------------------------- factory (trainer_parts.hpp)

std::unique_ptr<Trainer> make_vit_trainer(const nlohmann::json& options) {
  return std::make_unique<VitTrainer>(parse_options<VitOptions>(options, "vit options"));
}

std::unique_ptr<Trainer> resume_vit_trainer(const data::Checkpoint& c,
                                            const std::filesystem::path& dir) {
  return VitTrainer::resume(c, dir);
}

nlohmann::json default_vit_options() {
  return VitOptions{};
}

}  // namespace mmx::nn
