#include "nn/data/text_dataset.hpp"

#include <algorithm>
#include <cmath>

#include "engine/error.hpp"

namespace mmx::data {

const char* to_string(Split split) {
  return split == Split::train ? "train" : "val";
}

TextDataset::TextDataset(std::vector<int64_t> ids, double val_fraction) : ids_(std::move(ids)) {
  MMX_CHECK(val_fraction >= 0.0 && val_fraction < 1.0, "text dataset: val_fraction ", val_fraction,
            " is outside [0, 1)");
  MMX_CHECK(!ids_.empty(), "text dataset: the corpus has no tokens");
  const auto val_size =
      static_cast<int64_t>(std::floor(val_fraction * static_cast<double>(ids_.size())));
  train_size_ = size() - val_size;
}

std::span<const int64_t> TextDataset::tokens(Split split) const {
  const std::span<const int64_t> all(ids_);
  return split == Split::train ? all.first(static_cast<size_t>(train_size_))
                               : all.subspan(static_cast<size_t>(train_size_));
}

std::span<const int64_t> TextDataset::checked_tokens(Split split, int64_t batch,
                                                     int64_t seq) const {
  MMX_CHECK(batch > 0 && seq > 0, "text dataset: batch and seq must be positive, got [", batch,
            ", ", seq, "]");
  const std::span<const int64_t> t = tokens(split);
  MMX_CHECK(static_cast<int64_t>(t.size()) >= seq + 1, "text dataset: the ", to_string(split),
            " split has ", t.size(), " tokens (of ", size(),
            " in the corpus), fewer than seq + 1 = ", seq + 1,
            ": use a longer corpus or a shorter sequence");
  return t;
}

void TextDataset::copy_window(std::span<const int64_t> tokens, int64_t start, int64_t row,
                              TokenBatch& out) {
  const auto from = tokens.begin() + start;
  std::copy(from, from + out.seq, out.inputs.begin() + row * out.seq);
  std::copy(from + 1, from + 1 + out.seq, out.targets.begin() + row * out.seq);
}

TokenBatch TextDataset::sample(Split split, int64_t batch, int64_t seq, Generator& gen) const {
  return sample(split, batch, seq, gen, 0, batch);
}

TokenBatch TextDataset::sample(Split split, int64_t batch, int64_t seq, Generator& gen,
                               int64_t first_row, int64_t rows) const {
  const std::span<const int64_t> t = checked_tokens(split, batch, seq);
  MMX_CHECK(first_row >= 0 && rows >= 1 && first_row + rows <= batch, "text dataset: rows [",
            first_row, ", ", first_row + rows, ") are not inside a batch of ", batch);
  TokenBatch out{std::vector<int64_t>(static_cast<size_t>(rows * seq)),
                 std::vector<int64_t>(static_cast<size_t>(rows * seq)), rows, seq};
  const uint64_t starts = t.size() - static_cast<size_t>(seq);  // valid starts: [0, size - seq)
  for (int64_t row = 0; row < batch; ++row) {
    const auto start = static_cast<int64_t>(gen.below(starts));  // every row draws, kept or not
    if (row >= first_row && row < first_row + rows) copy_window(t, start, row - first_row, out);
  }
  return out;
}

TokenBatch TextDataset::fixed_batch(Split split, int64_t batch, int64_t seq) const {
  const std::span<const int64_t> t = checked_tokens(split, batch, seq);
  TokenBatch out{std::vector<int64_t>(static_cast<size_t>(batch * seq)),
                 std::vector<int64_t>(static_cast<size_t>(batch * seq)), batch, seq};
  const int64_t last_start = static_cast<int64_t>(t.size()) - seq - 1;
  for (int64_t row = 0; row < batch; ++row)
    copy_window(t, batch == 1 ? 0 : row * last_start / (batch - 1), row, out);
  return out;
}

}  // namespace mmx::data
