/// \file
/// TextDataset: a token stream split into train (the first 90% by default) and validation (the
/// rest), served as [batch, seq] windows of inputs with their next-token targets.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/random.hpp"
#include "engine/shape.hpp"

namespace mmx::data {

/// The two parts of a TextDataset.
enum class Split { train, val };
/// "train" or "val".
const char* to_string(Split split);

/// Row-major [batch, seq] ids; targets[b][t] = the token after inputs[b][t].
struct TokenBatch {
  /// batch x seq token ids
  std::vector<int64_t> inputs;
  /// the next token of each input
  std::vector<int64_t> targets;
  /// rows
  int64_t batch = 0;
  /// tokens per row
  int64_t seq = 0;
  /// {batch, seq}
  Shape shape() const { return {batch, seq}; }
};

/// A token stream split into train and validation parts (see the file comment).
class TextDataset {
 public:
  /// The validation split is the LAST floor(val_fraction * n) tokens: a contiguous tail, so no
  /// training window overlaps it. val_fraction lies in [0, 1).
  explicit TextDataset(std::vector<int64_t> ids, double val_fraction = 0.1);

  /// All tokens, both splits.
  int64_t size() const { return static_cast<int64_t>(ids_.size()); }
  /// The tokens of one split.
  std::span<const int64_t> tokens(Split split) const;

  /// `batch` windows, each starting at a uniform position of the split drawn from `gen` (so a
  /// saved generator state resumes the same stream). Throws if the split has < seq + 1 tokens.
  TokenBatch sample(Split split, int64_t batch, int64_t seq, Generator& gen) const;
  /// Rows [first_row, first_row + rows) of the batch sample(split, batch, seq, gen) returns,
  /// drawing from `gen` exactly as it does: data-parallel ranks each keep their share of one
  /// global batch (nn/distributed/data_parallel.hpp).
  TokenBatch sample(Split split, int64_t batch, int64_t seq, Generator& gen, int64_t first_row,
                    int64_t rows) const;
  /// The same windows on every call, starts evenly spaced over the split: a fixed yardstick for
  /// validation loss that needs no generator.
  TokenBatch fixed_batch(Split split, int64_t batch, int64_t seq) const;

 private:
  std::span<const int64_t> checked_tokens(Split split, int64_t batch, int64_t seq) const;
  static void copy_window(std::span<const int64_t> tokens, int64_t start, int64_t row,
                          TokenBatch& out);

  std::vector<int64_t> ids_;
  int64_t train_size_ = 0;  ///< ids_[0, train_size_) train, the rest validation
};

}  // namespace mmx::data
