/// \file
/// KVCache: the keys and values of every position decoded so far, one pair per layer, so that
/// decoding token by token computes each new position once instead of re-running the prefix.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.hpp"

namespace mmx::nn {

/// Keys and values of the positions decoded so far (see the file comment).
struct KVCache {
  /// Per layer, [batch, heads, capacity, head_dim]; positions [0, length) are filled.
  std::vector<Tensor> keys;
  /// per layer, like keys
  std::vector<Tensor> values;
  /// positions filled so far
  int64_t length = 0;

  KVCache() = default;
  /// Zeroed buffers with room for `capacity` positions per layer.
  KVCache(int64_t layers, int64_t batch, int64_t heads, int64_t capacity, int64_t head_dim);

  /// Rows decoded side by side.
  int64_t batch() const { return keys.empty() ? 0 : keys.front().size(0); }
  /// The most positions it can hold.
  int64_t capacity() const { return keys.empty() ? 0 : keys.front().size(2); }
  /// Forgets every position (the buffers are reused).
  void clear() { length = 0; }
};

}  // namespace mmx::nn
