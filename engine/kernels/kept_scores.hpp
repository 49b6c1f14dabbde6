// What the fused causal attention keeps of a forward for its backward, for SoftMax and MultiMax
// alike: each row's scores (the lower triangle, written past the caches) and the row's
// RowNormalization, from which the backward computes the weights again, bit for bit. A [T, T]
// matrix of weights costs twice the triangle's memory (a small step's peak RSS 10% higher when
// SoftMax kept one), and written through the caches each of its lines is first read in
// (docs/performance.md, "kept scores for SoftMax too").
// The normalizers differ only in how a score is modulated before the softmax: `Modulation` is a
// function object taking a float or a Vec (identity for SoftMax, sigma for MultiMax).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/kernels/masked_softmax.hpp"
#include "engine/kernels/vec16.hpp"
#include "engine/kernels/vec_exp.hpp"

namespace mmx::kernels {

// SoftMax's modulation: none.
struct NoModulation {
  template <class V>
  V operator()(V x) const {
    return x;
  }
};

// Where each row of a matrix's kept scores starts, and (last) the matrix's length: row i holds
// keys [0, i], padded to whole chunks of kVecLanes floats so that every row starts 64-byte
// aligned and is written and read in whole chunks (6% more than the bare triangle at T = 256).
inline std::vector<int64_t> kept_row_offsets(int64_t T) {
  std::vector<int64_t> offsets(static_cast<size_t>(T + 1), 0);
  for (int64_t i = 0; i < T; ++i)
    offsets[static_cast<size_t>(i + 1)] =
        offsets[static_cast<size_t>(i)] + (i + kVecLanes) / kVecLanes * kVecLanes;
  return offsets;
}

// One row of the forward, keeping x in the same pass: modulate x into p and take the maximum,
// chunk by chunk, then softmax p in place; kept[0, active) = x[0, active), written in whole
// chunks (zeros after `active`) past the caches, so `kept` must hold `active` rounded up to a
// chunk (and be 64-byte aligned, or the stores stay plain). The causal rows end at `active`
// mid-chunk 15 times in 16; the row goes on to `cols` in x and p, so the last chunk is read and
// written whole, its lanes from `active` on kept as 0 and left out of the maximum
// (softmax_row_in_place zeroes them in p). p is bit for bit what modulating the row and
// softmax_row_in_place give.
template <class Modulation>
RowNormalization keep_row(const float* x, int64_t active, int64_t cols, Modulation modulate,
                          float* p, float* kept) {
  Vec top = broadcast(-INFINITY);
  int64_t j = 0;
  for (; j + kVecLanes <= active; j += kVecLanes) {
    const Vec xv = load(x + j), s = modulate(xv);
    store_streaming(kept + j, xv);
    store(p + j, s);
    top = vmax(top, s);
  }
  float tail_top = -INFINITY;
  if (j < active && j + kVecLanes <= cols) {
    const VecMask live = lanes_below(active - j);
    const Vec xv = live ? load(x + j) : Vec{}, s = modulate(xv);
    store_streaming(kept + j, xv);
    store(p + j, s);
    top = vmax(top, live ? s : broadcast(-INFINITY));
  } else if (j < active) {  // the row ends within this chunk: element by element
    std::fill(kept + j, kept + j + kVecLanes, 0.0f);
    for (int64_t k = j; k < active; ++k) {
      kept[k] = x[k];
      p[k] = modulate(x[k]);
      tail_top = std::max(tail_top, p[k]);
    }
  }
  return softmax_row_in_place(p, active, cols, std::max(horizontal_max(top), tail_top));
}

// A causal [T, T] matrix's p again from what keep_row kept of its rows (row i at kept +
// kept_at[i], T + 1 offsets) and returned (norms: [T, 2], top then inv): the same operations on
// the same floats, so the same bits on and below the diagonal; zero after it up to the end of the
// diagonal's chunk of kVecLanes columns, and beyond that zero only with `zero_above` (left
// unwritten otherwise: the fused products read no further). The whole matrix in one loop, not a
// call per row: row i is i / 16 whole chunks and the diagonal's, the same count for 16 rows
// running, and its constants stay in registers (a harness at T = 128, kept scores cold: 30%
// faster than a call per row through map_row). In chunk-column order it was slower still: the
// loads jump about the kept triangle, which then arrives from memory without the prefetcher's
// help.
template <class Modulation>
void recompute_weights(const float* kept, const int64_t* kept_at, const float* norms, int64_t T,
                       Modulation modulate, bool zero_above, float* p) {
  for (int64_t i = 0; i < T; ++i) {
    const float top = norms[2 * i], inv = norms[2 * i + 1];
    const float* x = kept + kept_at[i];
    float* pi = p + i * T;
    const int64_t diagonal = i / kVecLanes * kVecLanes;  // where the diagonal's chunk starts
    const int64_t end = std::min(T, diagonal + kVecLanes);
    if (top == -INFINITY) {  // an all-masked row: p is all zeros
      std::fill(pi, pi + end, 0.0f);
    } else {
      const auto weights = [modulate, top, inv](Vec v) { return vec_exp(modulate(v) - top) * inv; };
      for (int64_t j = 0; j < diagonal; j += kVecLanes) store(pi + j, weights(load(x + j)));
      // Kept rows are whole chunks, so this load stays in row i; p's row may end mid-chunk.
      const Vec v = lanes_below(i + 1 - diagonal) ? weights(load(x + diagonal)) : Vec{};
      std::memcpy(pi + diagonal, &v, static_cast<size_t>(end - diagonal) * sizeof(float));
    }
    if (zero_above) std::fill(pi + end, pi + T, 0.0f);
  }
}

}  // namespace mmx::kernels
