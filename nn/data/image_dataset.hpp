/// \file
/// ImageDataset: labelled images as normalized float tensors [N, C, H, W], loaded from IDX files
/// (Fashion-MNIST by default), and ShuffledBatches: a seeded epoch order that checkpoints can save.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "engine/random.hpp"
#include "engine/tensor.hpp"

namespace mmx::data {

/// Where the Debian package dataset-fashion-mnist puts the four .gz files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
/// Fashion-MNIST has ten clothing classes.
inline constexpr int64_t kFashionMnistClasses = 10;
/// Label i of Fashion-MNIST names this class.
const std::array<const char*, 10>& fashion_mnist_class_names();

/// Images with their labels.
struct ImageBatch {
  Tensor images;                ///< [B, C, H, W]
  std::vector<int64_t> labels;  ///< B labels
};

/// Pixels become (x / 255 - mean) / std.
struct PixelNormalization {
  /// subtracted from x / 255
  float mean = 0.0f;
  /// then divided by
  float std = 1.0f;
};

/// Labelled images as normalized float tensors (see the file comment).
class ImageDataset {
 public:
  /// images [N, C, H, W] (made contiguous), N labels in [0, classes).
  ImageDataset(Tensor images, std::vector<int64_t> labels, int64_t classes);
  /// IDX images u8 [N, H, W] (one channel) and labels u8 [N]: the counts must agree and every
  /// label must be below `classes`.
  static ImageDataset from_idx(const std::filesystem::path& images_path,
                               const std::filesystem::path& labels_path, int64_t classes,
                               PixelNormalization normalization);

  /// The number of images.
  int64_t size() const { return images_.size(0); }
  /// Labels lie in [0, classes()).
  int64_t classes() const { return classes_; }
  Shape image_shape() const;  ///< [C, H, W]
  /// All images, [N, C, H, W].
  const Tensor& images() const { return images_; }
  /// One label per image.
  const std::vector<int64_t>& labels() const { return labels_; }

  /// A copy of the images and labels at `indices` (each in [0, size())).
  ImageBatch gather(std::span<const int64_t> indices) const;
  /// Images [start, start + count) as a view, in order: for evaluation passes.
  ImageBatch range(int64_t start, int64_t count) const;

 private:
  Tensor images_;
  std::vector<int64_t> labels_;
  int64_t classes_;
};

/// The Fashion-MNIST train and test sets, normalized alike.
struct FashionMnist {
  ImageDataset train;                ///< 60000 images [1, 28, 28]
  ImageDataset test;                 ///< 10000
  PixelNormalization normalization;  ///< measured on the training pixels, applied to both
};
/// Reads train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and
/// t10k-labels-idx1-ubyte.gz from `dir`.
FashionMnist load_fashion_mnist(const std::filesystem::path& dir = kFashionMnistDir);

/// Mini-batches of indices in [0, size): each epoch is a fresh permutation drawn from a seeded
/// Generator; the last, incomplete batch of an epoch is dropped so every step sees `batch` items.
class ShuffledBatches {
 public:
  /// `batch` indices at a time out of [0, size), shuffled by a Generator seeded with `seed`.
  ShuffledBatches(int64_t size, int64_t batch, uint64_t seed);

  /// The next batch's indices; starts (and shuffles) a new epoch when the current one is spent.
  std::span<const int64_t> next();

  int64_t epoch() const { return epoch_; }  ///< counts from 0
  /// Full batches per epoch: size / batch.
  int64_t batches_per_epoch() const { return size_ / batch_; }

  /// Everything needed to continue the same stream: the generator as it was before this epoch's
  /// shuffle, the epoch, and how many items of it were served.
  struct State {
    /// the generator before this epoch's shuffle
    Generator::State epoch_start;
    /// the current epoch, from 0
    int64_t epoch = 0;
    /// items of this epoch already served
    int64_t cursor = 0;

    /// {"epoch_start", "epoch", "cursor"}, for checkpoints.
    nlohmann::json to_json() const;
    /// The inverse of to_json(); a missing or mistyped field is a nlohmann exception.
    static State from_json(const nlohmann::json& json);
  };
  /// Where the stream is, for checkpoints.
  State state() const { return {epoch_start_, epoch_, cursor_}; }
  /// Continues the stream from a saved state().
  void set_state(const State& state);

 private:
  void shuffle();  ///< draws this epoch's permutation from gen_, remembering its starting state

  int64_t size_;
  int64_t batch_;
  Generator gen_;
  Generator::State epoch_start_{};
  int64_t epoch_ = 0;
  int64_t cursor_ = 0;
  std::vector<int64_t> order_;
};

}  // namespace mmx::data
