// Vec: 16 floats as one value (the GCC/Clang vector extension: one AVX-512 register, or two AVX2
// ones), for the row loops whose sums `#pragma omp simd reduction` handles badly.
#pragma once

#include <cstdint>
#include <cstring>
#if defined(__AVX__)
#include <immintrin.h>
#endif

namespace mmx::kernels {

// Why not `#pragma omp simd reduction(+ : sum)`: GCC 12 ends each such loop by storing the
// lanes to the stack and adding them one by one, a ~50-cycle dependent chain per reduction.
// Over a 256-column row (16 vectors) that chain cost a sixth of the softmax exp pass and a
// third of the MultiMax backward (perf). A Vec sum can live across rows, or fold as a tree.
using Vec = float __attribute__((vector_size(64)));
using VecMask = int32_t __attribute__((vector_size(64)));  // what comparing two Vecs gives
constexpr int64_t kVecLanes = sizeof(Vec) / sizeof(float);

inline Vec load(const float* from) {
  Vec v;
  std::memcpy(&v, from, sizeof v);
  return v;
}
inline void store(float* to, Vec v) {
  std::memcpy(to, &v, sizeof v);
}

// Outputs at least this large are written past the caches (store_streaming): by the time the
// row loop ends they have been evicted anyway, and a normal store first reads each line in
// (a fifth of a 4-stream backward's memory traffic). Smaller ones stay cached for the next op.
constexpr int64_t kStreamingBytes = int64_t{8} << 20;

// A store that skips the caches (no read-for-ownership) where the target is aligned and the
// CPU has the instruction; a plain store elsewhere. Call streaming_stores_done() on the same
// thread before others read what it wrote (streaming stores are weakly ordered).
inline void store_streaming(float* to, Vec v) {
  const auto address = reinterpret_cast<uintptr_t>(to);
#if defined(__AVX512F__)
  if (address % 64 == 0) {
    _mm512_stream_ps(to, reinterpret_cast<__m512&>(v));
    return;
  }
#elif defined(__AVX__)
  if (address % 32 == 0) {
    __m256 halves[2];
    std::memcpy(halves, &v, sizeof v);
    _mm256_stream_ps(to, halves[0]);
    _mm256_stream_ps(to + 8, halves[1]);
    return;
  }
#endif
  (void)address;
  store(to, v);
}
inline void streaming_stores_done() {
#if defined(__AVX__)
  _mm_sfence();
#endif
}

inline Vec broadcast(float v) {
  return Vec{} + v;
}
// a > b ? a : b and a < b ? a : b, lane by lane, as one instruction: GCC 12 leaves these selects
// a compare and a blend, two (MultiMax's recompute clamps six times a chunk).
// The selects are spelled in the instructions' own operand order, so a NaN or a -0 gives the
// same lane either way; the float overloads are the same selects, for code templated on both.
#if defined(__AVX512F__)
// Every lane: the intrinsics below are called in their zero-masked form with this mask, as the
// plain ones start from an undefined register that GCC 12 warns is used uninitialised.
constexpr __mmask16 kAllLanes = 0xFFFF;
#endif
inline Vec vmax(Vec a, Vec b) {
#if defined(__AVX512F__)
  const __m512 m = _mm512_maskz_max_ps(kAllLanes, reinterpret_cast<const __m512&>(a),
                                       reinterpret_cast<const __m512&>(b));
  return reinterpret_cast<const Vec&>(m);
#else
  return a > b ? a : b;
#endif
}
inline Vec vmin(Vec a, Vec b) {
#if defined(__AVX512F__)
  const __m512 m = _mm512_maskz_min_ps(kAllLanes, reinterpret_cast<const __m512&>(a),
                                       reinterpret_cast<const __m512&>(b));
  return reinterpret_cast<const Vec&>(m);
#else
  return a < b ? a : b;
#endif
}
inline float vmax(float a, float b) {
  return a > b ? a : b;
}
inline float vmin(float a, float b) {
  return a < b ? a : b;
}
inline Vec relu(Vec v) {
  return vmax(v, Vec{});
}
// Lanes [0, n) of `from` (0 <= n <= kVecLanes), the rest 0, reading no memory past from + n: a
// row's last, partial chunk where the row may end at its buffer's end. Under AVX-512 one masked
// load, which suppresses faults on the masked-off lanes.
inline Vec load_first(const float* from, int64_t n) {
#if defined(__AVX512F__)
  const __m512 v = _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1u), from);
  return reinterpret_cast<const Vec&>(v);
#else
  Vec v = {};
  std::memcpy(&v, from, static_cast<size_t>(n) * sizeof(float));
  return v;
#endif
}

// Lanes [0, n) true: the live part of a row's last, partial chunk.
inline VecMask lanes_below(int64_t n) {
  const Vec lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  return lane < static_cast<float>(n);
}

// y[j] = f(x[j]) for j < active, f mapping a Vec lane by lane, in whole chunks. Causal rows end
// mid-chunk 15 times in 16, and an `omp simd` loop finishes such a row one float at a time: with
// an exp in f, that scalar tail cost more than the vector part of a 128-column row (perf). So
// the last chunk is read and written whole where the row goes on to `cols` (its lanes from
// `active` on read as 0 and written as 0), and through a padded copy where it does not. y may
// be x.
template <class F>
void map_row(const float* x, int64_t active, int64_t cols, float* y, F f) {
  int64_t j = 0;
  for (; j + kVecLanes <= active; j += kVecLanes) store(y + j, f(load(x + j)));
  if (j == active) return;
  if (j + kVecLanes <= cols) {
    const VecMask live = lanes_below(active - j);
    store(y + j, live ? f(live ? load(x + j) : Vec{}) : Vec{});
  } else {
    alignas(64) float in[kVecLanes] = {}, out[kVecLanes];
    std::memcpy(in, x + j, static_cast<size_t>(active - j) * sizeof(float));
    store(out, f(load(in)));
    std::memcpy(y + j, out, static_cast<size_t>(active - j) * sizeof(float));
  }
}

// Folds the 16 lanes with `op` by halving the vector: 4 dependent steps, not 15. The halves are
// taken by shuffles, in registers: through memory, a 64-byte store read back as two 32-byte
// loads missed the store forwarding and stalled each fold (perf, in the decoding's scores).
template <typename Op>
float fold_lanes(Vec v, Op op) {
  const auto h = op(__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7),
                    __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15));
  const auto q =
      op(__builtin_shufflevector(h, h, 0, 1, 2, 3), __builtin_shufflevector(h, h, 4, 5, 6, 7));
  return op(op(q[0], q[2]), op(q[1], q[3]));
}
inline float horizontal_sum(Vec v) {
  return fold_lanes(v, [](auto a, auto b) { return a + b; });
}
inline float horizontal_max(Vec v) {
  return fold_lanes(v, [](auto a, auto b) { return a > b ? a : b; });
}

}  // namespace mmx::kernels
