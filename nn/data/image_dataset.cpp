#include "nn/data/image_dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "engine/error.hpp"
#include "nn/data/checkpoint.hpp"
#include "nn/data/idx_reader.hpp"

namespace mmx::data {

namespace {

std::string dims_string(const std::vector<int64_t>& dims) {
  return to_string(Shape(dims));
}

// Mean and standard deviation of the pixels scaled to [0, 1].
PixelNormalization measure_normalization(const IdxArray& images) {
  MMX_CHECK(images.numel() > 0, "fashion-mnist: the training images are empty");
  double sum = 0.0, sum_sq = 0.0;
  for (const uint8_t v : images.values) {
    const double x = v / 255.0;
    sum += x;
    sum_sq += x * x;
  }
  const double n = static_cast<double>(images.numel());
  const double mean = sum / n;
  const double var = std::max(sum_sq / n - mean * mean, 1e-12);
  return {static_cast<float>(mean), static_cast<float>(std::sqrt(var))};
}

ImageDataset to_dataset(const IdxArray& images, const IdxArray& labels,
                        const std::filesystem::path& images_path,
                        const std::filesystem::path& labels_path, int64_t classes,
                        PixelNormalization norm) {
  MMX_CHECK(images.dims.size() == 3, "image dataset: ", images_path.string(),
            ": expected images [N, H, W], got dims ", dims_string(images.dims));
  MMX_CHECK(labels.dims.size() == 1, "image dataset: ", labels_path.string(),
            ": expected labels [N], got dims ", dims_string(labels.dims));
  MMX_CHECK(images.dims[0] == labels.dims[0], "image dataset: ", images_path.string(), " holds ",
            images.dims[0], " images but ", labels_path.string(), " holds ", labels.dims[0],
            " labels");
  MMX_CHECK(norm.std > 0.0f, "image dataset: the pixel std must be positive, got ", norm.std);
  Tensor pixels = Tensor::empty({images.dims[0], 1, images.dims[1], images.dims[2]});
  float* out = pixels.data();
  const float scale = 1.0f / (255.0f * norm.std), shift = norm.mean / norm.std;
  for (size_t i = 0; i < images.values.size(); ++i) out[i] = images.values[i] * scale - shift;
  std::vector<int64_t> ids(labels.values.begin(), labels.values.end());
  for (size_t i = 0; i < ids.size(); ++i)
    MMX_CHECK(ids[i] < classes, "image dataset: ", labels_path.string(), ": label ", ids[i],
              " of item ", i, " is not below the class count ", classes);
  return ImageDataset(std::move(pixels), std::move(ids), classes);
}

}  // namespace

const std::array<const char*, 10>& fashion_mnist_class_names() {
  static const std::array<const char*, 10> names{"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                 "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                 "Bag",         "Ankle boot"};
  return names;
}

ImageDataset::ImageDataset(Tensor images, std::vector<int64_t> labels, int64_t classes)
    : images_(images.contiguous()), labels_(std::move(labels)), classes_(classes) {
  MMX_CHECK(images_.dim() == 4, "image dataset: expected images [N, C, H, W], got ",
            to_string(images_.shape()));
  MMX_CHECK(static_cast<int64_t>(labels_.size()) == images_.size(0),
            "image dataset: ", images_.size(0), " images but ", labels_.size(), " labels");
  MMX_CHECK(classes_ > 0, "image dataset: classes must be positive, got ", classes_);
  for (size_t i = 0; i < labels_.size(); ++i)
    MMX_CHECK(labels_[i] >= 0 && labels_[i] < classes_, "image dataset: label ", labels_[i],
              " of item ", i, " is outside [0, ", classes_, ")");
}

ImageDataset ImageDataset::from_idx(const std::filesystem::path& images_path,
                                    const std::filesystem::path& labels_path, int64_t classes,
                                    PixelNormalization normalization) {
  return to_dataset(read_idx(images_path), read_idx(labels_path), images_path, labels_path, classes,
                    normalization);
}

Shape ImageDataset::image_shape() const {
  return {images_.size(1), images_.size(2), images_.size(3)};
}

ImageBatch ImageDataset::gather(std::span<const int64_t> indices) const {
  const int64_t n = static_cast<int64_t>(indices.size());
  const int64_t item = images_.numel() / std::max<int64_t>(size(), 1);
  Shape shape = image_shape();
  shape.insert(shape.begin(), n);
  ImageBatch batch{Tensor::empty(shape), std::vector<int64_t>(indices.size())};
  for (int64_t b = 0; b < n; ++b) {
    const int64_t i = indices[static_cast<size_t>(b)];
    MMX_CHECK(i >= 0 && i < size(), "image dataset: index ", i, " is outside [0, ", size(), ")");
    std::memcpy(batch.images.data() + b * item, images_.data() + i * item,
                static_cast<size_t>(item) * sizeof(float));
    batch.labels[static_cast<size_t>(b)] = labels_[static_cast<size_t>(i)];
  }
  return batch;
}

ImageBatch ImageDataset::range(int64_t start, int64_t count) const {
  MMX_CHECK(start >= 0 && count > 0 && start + count <= size(), "image dataset: range [", start,
            ", ", start + count, ") is outside [0, ", size(), ")");
  return {images_.slice(0, start, start + count),
          std::vector<int64_t>(labels_.begin() + start, labels_.begin() + start + count)};
}

FashionMnist load_fashion_mnist(const std::filesystem::path& dir) {
  const auto file = [&](const char* name) { return dir / name; };
  const IdxArray train_images = read_idx(file("train-images-idx3-ubyte.gz"));
  const PixelNormalization norm = measure_normalization(train_images);
  ImageDataset train = to_dataset(train_images, read_idx(file("train-labels-idx1-ubyte.gz")),
                                  file("train-images-idx3-ubyte.gz"),
                                  file("train-labels-idx1-ubyte.gz"), kFashionMnistClasses, norm);
  ImageDataset test =
      ImageDataset::from_idx(file("t10k-images-idx3-ubyte.gz"), file("t10k-labels-idx1-ubyte.gz"),
                             kFashionMnistClasses, norm);
  return {std::move(train), std::move(test), norm};
}

ShuffledBatches::ShuffledBatches(int64_t size, int64_t batch, uint64_t seed)
    : size_(size), batch_(batch), gen_(seed) {
  MMX_CHECK(batch > 0 && size >= batch, "shuffled batches: batch ", batch,
            " must be positive and at most the dataset size ", size);
  order_.resize(static_cast<size_t>(size));
  shuffle();
}

void ShuffledBatches::shuffle() {
  epoch_start_ = gen_.state();
  std::iota(order_.begin(), order_.end(), int64_t{0});
  for (size_t i = order_.size() - 1; i > 0; --i) std::swap(order_[i], order_[gen_.below(i + 1)]);
  cursor_ = 0;
}

std::span<const int64_t> ShuffledBatches::next() {
  if (cursor_ + batch_ > size_) {
    ++epoch_;
    shuffle();
  }
  const std::span<const int64_t> out(order_.data() + cursor_, static_cast<size_t>(batch_));
  cursor_ += batch_;
  return out;
}

nlohmann::json ShuffledBatches::State::to_json() const {
  return {
      {"epoch_start", generator_state_to_json(epoch_start)}, {"epoch", epoch}, {"cursor", cursor}};
}

ShuffledBatches::State ShuffledBatches::State::from_json(const nlohmann::json& json) {
  return {generator_state_from_json(json.at("epoch_start")), json.at("epoch").get<int64_t>(),
          json.at("cursor").get<int64_t>()};
}

void ShuffledBatches::set_state(const State& state) {
  MMX_CHECK(
      state.epoch >= 0 && state.cursor >= 0 && state.cursor <= size_ && state.cursor % batch_ == 0,
      "shuffled batches: state (epoch ", state.epoch, ", cursor ", state.cursor, ") does not fit ",
      size_, " items in batches of ", batch_);
  gen_.set_state(state.epoch_start);
  shuffle();
  epoch_ = state.epoch;
  cursor_ = state.cursor;
}

}  // namespace mmx::data
