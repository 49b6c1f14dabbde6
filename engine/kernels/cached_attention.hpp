// One new position of causal self-attention against a KV cache, for decoding a token at a time:
// its key and value go into the cache, then its query attends, head by head, to every cached
// position up to and including itself. The scores, the normalizer (SoftMax, or MultiMax by the
// row step the full forward's fused kernel runs, so MultiMax stays exact) and the weighted sum
// of one head stay in L1; nothing is allocated.
#pragma once

#include <cstdint>

#include "engine/kernels/multimax.hpp"

namespace mmx::kernels {

struct CachedAttentionRow {
  const float* qkv;  // [3 heads dh]: q, k, v side by side, heads within each (the fused
                     // projection's row)
  float* keys;       // [heads, capacity, dh] this layer's cache
  float* values;     // [heads, capacity, dh]
  int64_t heads, capacity, head_dim;
  int64_t position;  // the new position: the cache holds [0, position) and gets this one
  float scale;       // 1 / sqrt(dh)
  // MultiMax's t and r, 4 floats per head, or 4 for every head (multimax_heads 1), and its
  // order; t null for SoftMax.
  const float* t;
  const float* r;
  int64_t multimax_heads;
  int order;
  float* scratch;  // [2 heads capacity]: each head's scores and weights
  float* y;        // [heads dh]: the heads side by side, ready for the output projection
};

// Runs the step above, OpenMP over heads when the cache is long enough to pay for it.
void cached_attention_row(const CachedAttentionRow& a);

}  // namespace mmx::kernels
