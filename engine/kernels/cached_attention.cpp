#include "engine/kernels/cached_attention.hpp"

#include <cstring>

#include "engine/kernels/masked_softmax.hpp"
#include "engine/kernels/vec16.hpp"
#include "engine/parallel_region.hpp"

namespace mmx::kernels {

namespace {

// Multiply-adds (heads x positions x dh, twice) below which one thread does every head: 8 heads
// of 256 keys of 32 floats take ~13 us on one core, and a two-thread region costs ~3.5 us.
constexpr int64_t kParallelMinWork = int64_t{1} << 16;

// scores[j] = scale (q . keys[j]) for j < length, four keys at a time: each chunk of q is
// loaded once for four keys, and their four sums are independent chains. One key per call of
// dot_row cost ~3x as much (perf: the call, and one horizontal sum waiting on the next).
void scores_row(const float* q, const float* keys, int64_t dh, int64_t length, float scale,
                float* scores) {
  constexpr int64_t kKeys = 4;
  const int64_t full = dh - dh % kVecLanes;
  int64_t j = 0;
  for (; j + kKeys <= length; j += kKeys) {
    const float* k = keys + j * dh;
    Vec acc[kKeys] = {};
    for (int64_t c = 0; c < full; c += kVecLanes) {
      const Vec qv = load(q + c);
      for (int64_t i = 0; i < kKeys; ++i) acc[i] += qv * load(k + i * dh + c);
    }
    for (int64_t i = 0; i < kKeys; ++i) {
      float s = horizontal_sum(acc[i]);
      for (int64_t c = full; c < dh; ++c) s += q[c] * k[i * dh + c];
      scores[j + i] = s * scale;
    }
  }
  for (; j < length; ++j) scores[j] = dot_row(q, keys + j * dh, dh) * scale;
}

// y[c0, c0 + 16 Vecs) = sum_j p[j] values[j][c0, ...): the sums stay in registers for every j,
// in two sets (even and odd keys) so that each FMA waits on one two keys back, not the last.
// Adding into y in memory made each key wait on the last one's store (~10 cycles a key).
template <int64_t Vecs>
void weighted_sum_columns(const float* p, const float* values, int64_t dh, int64_t length,
                          int64_t c0, float* y) {
  Vec even[Vecs] = {}, odd[Vecs] = {};
  int64_t j = 0;
  for (; j + 2 <= length; j += 2) {
    const Vec p0 = broadcast(p[j]), p1 = broadcast(p[j + 1]);
    const float* v = values + j * dh + c0;
    for (int64_t i = 0; i < Vecs; ++i) {
      even[i] += p0 * load(v + i * kVecLanes);
      odd[i] += p1 * load(v + dh + i * kVecLanes);
    }
  }
  if (j < length) {
    const Vec pj = broadcast(p[j]);
    for (int64_t i = 0; i < Vecs; ++i) even[i] += pj * load(values + j * dh + c0 + i * kVecLanes);
  }
  for (int64_t i = 0; i < Vecs; ++i) store(y + c0 + i * kVecLanes, even[i] + odd[i]);
}

// y = sum_j p[j] values[j] over dh columns: up to four vectors of columns at a time, then the
// columns past the last whole vector one by one.
void weighted_sum_row(const float* p, const float* values, int64_t dh, int64_t length, float* y) {
  constexpr int64_t kMaxVecs = 4;
  int64_t c = 0;
  for (; c + kMaxVecs * kVecLanes <= dh; c += kMaxVecs * kVecLanes)
    weighted_sum_columns<kMaxVecs>(p, values, dh, length, c, y);
  switch ((dh - c) / kVecLanes) {
    case 3: weighted_sum_columns<3>(p, values, dh, length, c, y); break;
    case 2: weighted_sum_columns<2>(p, values, dh, length, c, y); break;
    case 1: weighted_sum_columns<1>(p, values, dh, length, c, y); break;
    default: break;
  }
  for (c = dh - dh % kVecLanes; c < dh; ++c) {
    float s = 0.0f;
    for (int64_t j = 0; j < length; ++j) s += p[j] * values[j * dh + c];
    y[c] = s;
  }
}

void attend_head(const AttentionRow& a, int64_t h) {
  const int64_t dh = a.head_dim, length = a.length;
  float* scores = a.scratch + 2 * h * a.capacity;
  float* p = scores + a.capacity;
  // As the full forward's kernels: the dot product, then the scale; the mask after sigma.
  scores_row(a.q + h * dh, a.keys + h * a.capacity * dh, dh, length, a.scale, scores);
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
  weighted_sum_row(p, a.values + h * a.capacity * dh, dh, length, a.y + h * dh);
}

// Runs per_head(h) for every head of `a`, the heads split among the threads when the attention
// is large enough.
template <class PerHead>
void for_each_head(const AttentionRow& a, const PerHead& per_head) {
  parallel_region(a.heads * a.length * a.head_dim >= kParallelMinWork, [&] {
#pragma omp for schedule(static)
    for (int64_t h = 0; h < a.heads; ++h) per_head(h);
  });
}

}  // namespace

void attention_row(const AttentionRow& a) {
  for_each_head(a, [&](int64_t h) { attend_head(a, h); });
}

void cached_attention_row(const CachedAttentionRow& a) {
  const int64_t dh = a.head_dim, d = a.heads * dh;
  const AttentionRow row{.q = a.qkv,
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
                         .y = a.y};
  for_each_head(row, [&](int64_t h) {  // the head's new key and value into the cache first
    const size_t bytes = static_cast<size_t>(dh) * sizeof(float);
    std::memcpy(a.keys + (h * a.capacity + a.position) * dh, a.qkv + d + h * dh, bytes);
    std::memcpy(a.values + (h * a.capacity + a.position) * dh, a.qkv + 2 * d + h * dh, bytes);
    attend_head(row, h);
  });
}

}  // namespace mmx::kernels
