#include "nn/models/kv_cache.hpp"

#include "engine/error.hpp"

namespace mmx::nn {

KVCache::KVCache(int64_t layers, int64_t batch, int64_t heads, int64_t capacity, int64_t head_dim) {
  MMX_CHECK(layers > 0 && batch > 0 && heads > 0 && capacity > 0 && head_dim > 0,
            "KVCache: sizes must be positive, got layers ", layers, ", batch ", batch, ", heads ",
            heads, ", capacity ", capacity, ", head_dim ", head_dim);
  for (int64_t l = 0; l < layers; ++l) {
    keys.push_back(Tensor::zeros({batch, heads, capacity, head_dim}));
    values.push_back(Tensor::zeros({batch, heads, capacity, head_dim}));
  }
}

}  // namespace mmx::nn
