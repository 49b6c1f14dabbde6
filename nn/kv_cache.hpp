// KVCache: the keys and values of every position decoded so far, one pair per layer, so that
// decoding token by token computes each new position once instead of re-running the prefix.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.hpp"

namespace mmx::nn {

struct KVCache {
  // Per layer, [batch, heads, capacity, head_dim]; positions [0, length) are filled.
  std::vector<Tensor> keys;
  std::vector<Tensor> values;
  int64_t length = 0;

  KVCache() = default;
  KVCache(int64_t layers, int64_t batch, int64_t heads, int64_t capacity, int64_t head_dim);

  int64_t batch() const { return keys.empty() ? 0 : keys.front().size(0); }
  int64_t capacity() const { return keys.empty() ? 0 : keys.front().size(2); }
  void clear() { length = 0; }
};

}  // namespace mmx::nn
