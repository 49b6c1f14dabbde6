// One query row of attention for decoding a token at a time, head by head: the scores, the
// normalizer (SoftMax, or MultiMax by the row step the full forward's fused kernel runs, so
// MultiMax stays exact) and the weighted sum of one head stay in L1; nothing is allocated.
// Two uses: causal self-attention against a KV cache (the new key and value go into the cache,
// then the query attends to every position up to and including itself), and cross-attention to
// an encoder's keys and values, projected once per source, under the source's padding mask.
#pragma once

#include <cstdint>

#include "engine/kernels/multimax.hpp"

namespace mmx::kernels {

// The normalizer of the scores: MultiMax's t and r, 4 floats per head, or 4 for every head
// (multimax_heads 1), and its order; t null for SoftMax.
struct RowNormalizer {
  const float* t;
  const float* r;
  int64_t multimax_heads;
  int order;
};

// One query against `length` keys.
struct AttentionRow {
  const float* q;       // [heads dh], heads side by side
  const float* keys;    // [heads, capacity, dh]: rows [0, length) of each head are read
  const float* values;  // [heads, capacity, dh]
  int64_t heads, capacity, head_dim, length;
  const float* key_mask;  // [length] additive (0 or -inf), or null
  float scale;            // 1 / sqrt(dh)
  RowNormalizer normalizer;
  float* scratch;  // [2 heads capacity]: each head's scores and weights
  float* y;        // [heads dh]: the heads side by side, ready for the output projection
};

// Runs the attention above, OpenMP over heads when there are enough keys to pay for it.
void attention_row(const AttentionRow& a);

struct CachedAttentionRow {
  const float* qkv;  // [3 heads dh]: q, k, v side by side, heads within each
  float* keys;       // [heads, capacity, dh] this layer's cache
  float* values;     // [heads, capacity, dh]
  int64_t heads, capacity, head_dim;
  int64_t position;  // the new position: the cache holds [0, position) and gets this one
  float scale;       // 1 / sqrt(dh)
  RowNormalizer normalizer;
  float* scratch;  // [2 heads capacity]
  float* y;        // [heads dh]
};

// Writes the new key and value into the cache, then attention_row over [0, position].
void cached_attention_row(const CachedAttentionRow& a);

}  // namespace mmx::kernels
