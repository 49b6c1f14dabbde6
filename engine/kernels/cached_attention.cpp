#include "engine/kernels/cached_attention.hpp"

#include <cstring>

#include "engine/kernels/masked_softmax.hpp"

namespace mmx::kernels {

namespace {

// Multiply-adds (heads x positions x dh, twice) below which one thread does every head.
constexpr int64_t kParallelMinWork = int64_t{1} << 14;

void attend_head(const AttentionRow& a, int64_t h) {
  const int64_t dh = a.head_dim, length = a.length;
  const float* q = a.q + h * dh;
  const float* keys = a.keys + h * a.capacity * dh;
  const float* values = a.values + h * a.capacity * dh;
  float* scores = a.scratch + 2 * h * a.capacity;
  float* p = scores + a.capacity;
  // As the full forward's kernels: the dot product, then the scale; the mask after sigma.
  for (int64_t j = 0; j < length; ++j) scores[j] = dot_row(q, keys + j * dh, dh) * a.scale;
  const RowNormalizer& n = a.normalizer;
  if (n.t) {
    const int64_t at = 4 * (n.multimax_heads == 1 ? 0 : h);
    const float* t = n.t + at;
    const float* r = n.r + at;
    const MultiMaxCoeffs c{t[0], t[1], t[2], t[3], r[0], r[1], r[2], r[3]};
    multimax_forward_row(scores, a.key_mask, length, length, c, n.order, p);
  } else {
    softmax_temperature_row(scores, a.key_mask, length, length, 1.0f, p);
  }
  float* y = a.y + h * dh;
  std::memset(y, 0, static_cast<size_t>(dh) * sizeof(float));
  for (int64_t j = 0; j < length; ++j) {
    const float pj = p[j];
    const float* v = values + j * dh;
#pragma omp simd
    for (int64_t i = 0; i < dh; ++i) y[i] += pj * v[i];
  }
}

}  // namespace

void attention_row(const AttentionRow& a) {
#pragma omp parallel for schedule(static) if (a.heads * a.length * a.head_dim >= kParallelMinWork)
  for (int64_t h = 0; h < a.heads; ++h) attend_head(a, h);
}

void cached_attention_row(const CachedAttentionRow& a) {
  const int64_t dh = a.head_dim, d = a.heads * dh;
  for (int64_t h = 0; h < a.heads; ++h) {  // the new key and value into the cache
    const size_t bytes = static_cast<size_t>(dh) * sizeof(float);
    std::memcpy(a.keys + (h * a.capacity + a.position) * dh, a.qkv + d + h * dh, bytes);
    std::memcpy(a.values + (h * a.capacity + a.position) * dh, a.qkv + 2 * d + h * dh, bytes);
  }
  attention_row({.q = a.qkv,
                 .keys = a.keys,
                 .values = a.values,
                 .heads = a.heads,
                 .capacity = a.capacity,
                 .head_dim = dh,
                 .length = a.position + 1,
                 .key_mask = nullptr,
                 .scale = a.scale,
                 .normalizer = a.normalizer,
                 .scratch = a.scratch,
                 .y = a.y});
}

}  // namespace mmx::kernels
