#include "engine/kernels/causal_products.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/error.hpp"
#include "engine/kernels/bf16_pairs.hpp"
#include "engine/kernels/dnnl/dnnl_kernels.hpp"
#include "engine/kernels/elementwise.hpp"
#include "engine/kernels/vec16.hpp"
#include "engine/parallel_region.hpp"

namespace mmx::kernels {

namespace {

// Rows of output per register tile: R x C accumulators of one Vec (16 floats) each, so a tile
// loads C Vecs and R scalars per step of its inner loop for R x C fused multiply-adds.
constexpr int kTileRows = 8;

Shape batch_of(const Tensor& t) {
  return Shape(t.shape().begin(), t.shape().end() - 2);
}

// a, b [..., T, d] with the same batch axes.
void check_pair(const char* op, const Tensor& a, const Tensor& b) {
  MMX_CHECK(a.dim() >= 2 && a.shape() == b.shape(), op,
            ": need two [..., T, d] operands of one shape, got ", to_string(a.shape()), " and ",
            to_string(b.shape()));
}

// p [..., T, T], b [..., T, d] with the same batch axes.
void check_weights(const char* op, const Tensor& p, const Tensor& b) {
  MMX_CHECK(p.dim() >= 2 && b.dim() == p.dim() && p.size(-1) == p.size(-2) &&
                b.size(-2) == p.size(-1) && batch_of(p) == batch_of(b),
            op, ": need p [..., T, T] and b [..., T, d] with the same batch axes, got ",
            to_string(p.shape()), " and ", to_string(b.shape()));
}

// Copies m's [rows, cols] into `to` as dense rows of `width` >= cols floats, zero-padded: the
// tiles then read whole Vecs without a tail case.
void pack(const Matrix& m, int64_t rows, int64_t cols, int64_t width, std::vector<float>& to) {
  to.resize(static_cast<size_t>(rows * width));
  for (int64_t r = 0; r < rows; ++r) {
    float* row = to.data() + r * width;
    std::copy(m.data + r * m.row_stride, m.data + r * m.row_stride + cols, row);
    std::fill(row + cols, row + width, 0.0f);
  }
}

// m^T: m's [rows, cols] into `to` as `cols` dense rows of `width` >= rows floats, zero-padded.
// 16 source rows at a time, so that each 16 floats of a copied row are one run of stores (for
// [128, 32] from a qkv projection's stride, 0.64 us against 1.39 a float at a time, harness).
void pack_transposed(const Matrix& m, int64_t rows, int64_t cols, int64_t width,
                     std::vector<float>& to) {
  to.resize(static_cast<size_t>(cols * width));
  float* out = to.data();
  for (int64_t c = 0; c < cols; ++c) std::fill(out + c * width + rows, out + (c + 1) * width, 0.0f);
  int64_t r0 = 0;
  for (; r0 + kVecLanes <= rows; r0 += kVecLanes)
    for (int64_t c = 0; c < cols; ++c) {
      float* run = out + c * width + r0;
      const float* column = m.data + r0 * m.row_stride + c;
#pragma omp simd
      for (int64_t l = 0; l < kVecLanes; ++l) run[l] = column[l * m.row_stride];
    }
  for (int64_t c = 0; c < cols; ++c)
    for (int64_t r = r0; r < rows; ++r) out[c * width + r] = m.at(r, c);
}

int64_t round_up(int64_t n, int64_t to) {
  return (n + to - 1) / to * to;
}

// Writes the first `count` (<= 16) lanes of v to `to`, lanes from `keep_until` on as zero: one
// store when that is the whole Vec (the diagonal's chunks as a select first), lane by lane at a
// ragged end.
inline void store_chunk(float* to, Vec v, int64_t count, int64_t keep_until) {
  if (count == kVecLanes) {
    store(to, keep_until >= kVecLanes ? v : (lanes_below(keep_until) ? v : Vec{}));
    return;
  }
  alignas(64) float lanes[kVecLanes];
  store(lanes, v);
  for (int64_t l = 0; l < count; ++l) to[l] = l < keep_until ? lanes[l] : 0.0f;
}

// A weighted sum's tile: scale acc into y's rows [o0, o0 + R), columns [c0, c0 + 16 C) (< d).
template <int R, int C>
void store_output_tile(const Vec (&acc)[R][C], int64_t o0, int64_t c0, int64_t d, float scale,
                       const OutMatrix& y) {
  for (int c = 0; c < C; ++c) {
    const int64_t count = std::min<int64_t>(kVecLanes, d - c0 - c * kVecLanes);
    for (int r = 0; r < R; ++r)
      store_chunk(y.data + (o0 + r) * y.row_stride + c0 + c * kVecLanes, acc[r][c] * scale, count,
                  count);
  }
}

// ---- bf16 operands: rows of pairs against columns of pairs ----

// acc[r][c] += the products of the tile's rows r of a with b's pair rows [k0, k1), column Vecs
// c (pair rows `b_width` pairs apart). Row r's pair k is at a + r * a_row + k * a_pair (bf16
// offsets): a's rows hold their pairs side by side, or, read transposed from an interleaved
// operand, `b_width`-like strides apart.
template <int R, int C>
void pair_tile(const uint16_t* a, int64_t a_row, int64_t a_pair, const uint16_t* b, int64_t b_width,
               int64_t k0, int64_t k1, Vec (&acc)[R][C]) {
  for (int64_t k = k0; k < k1; ++k) {
    Pairs bk[C];
    for (int c = 0; c < C; ++c) bk[c] = load_pairs(b + 2 * (k * b_width + c * kVecLanes));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const uint32_t ak = pair_at(a + r * a_row + k * a_pair);
      for (int c = 0; c < C; ++c) acc[r][c] = dot_pairs(acc[r][c], ak, bk[c]);
    }
  }
}

// Lanes [c, c + 16) of a row whose first `visible` floats count (the rest read as zero, and
// nothing read past them), rounded to bf16.
inline Bf16x16 bf16_chunk(const float* row, int64_t c, int64_t visible) {
  const int64_t n = std::clamp<int64_t>(visible - c, 0, kVecLanes);
  return to_bf16x16(n == kVecLanes ? load(row + c) : load_first(row + c, n));
}

// The chunks of [0, end) that lie whole below `visible`: [0, the result). The packs below convert
// those in a loop with no per-chunk test and only the rest through bf16_chunk: through
// bf16_chunk alone they were branch-bound, 19% of a bf16 attention's samples.
inline int64_t whole_chunks(int64_t visible, int64_t end) {
  return std::min(end, visible / kVecLanes * kVecLanes);
}

// row's chunks [0, end) (end a multiple of 16) into `to` as bf16, zero from `visible` on.
inline void bf16_row(const float* row, int64_t visible, int64_t end, uint16_t* to) {
  const int64_t whole = whole_chunks(visible, end);
  int64_t c = 0;
  for (; c < whole; c += kVecLanes) store_bf16(to + c, to_bf16x16(load(row + c)));
  for (; c < end; c += kVecLanes) store_bf16(to + c, bf16_chunk(row, c, visible));
}

// m's [rows, cols] in bf16, as dense rows of round_up(cols, 16) (zero-padded): rows of pairs.
void bf16_rows(const Matrix& m, int64_t rows, int64_t cols, std::vector<uint16_t>& to) {
  const int64_t width = round_up(cols, kVecLanes);
  to.resize(static_cast<size_t>(rows * width));
  for (int64_t r = 0; r < rows; ++r)
    bf16_row(m.data + r * m.row_stride, cols, width, to.data() + r * width);
}

// The pairs of m's [rows, cols] rows, transposed: pair row k holds, for each row r < width (the
// rest zero), the pair (m[r][2k], m[r][2k + 1]) (0 past cols): [ceil(cols / 2), width] pairs.
// m's rows go to bf16 first (in `rows_bf16`), then their pairs are moved 16 rows at a time, so
// that each 16 pairs of a pair row are one run of stores.
void pairs_transposed(const Matrix& m, int64_t rows, int64_t cols, int64_t width,
                      std::vector<uint16_t>& rows_bf16, std::vector<uint16_t>& to) {
  bf16_rows(m, rows, cols, rows_bf16);
  const int64_t pairs = (cols + 1) / 2, row_pairs = round_up(cols, kVecLanes) / 2;
  to.resize(static_cast<size_t>(2 * pairs * width));
  uint16_t* out = to.data();
  const uint16_t* from = rows_bf16.data();
  auto move = [&](int64_t k, int64_t r) {
    const uint32_t pair = pair_at(from + 2 * (r * row_pairs + k));
    std::memcpy(out + 2 * (k * width + r), &pair, sizeof pair);
  };
  int64_t r0 = 0;
  for (; r0 + kVecLanes <= rows; r0 += kVecLanes)
    for (int64_t k = 0; k < pairs; ++k)
#pragma omp simd
      for (int64_t l = 0; l < kVecLanes; ++l) move(k, r0 + l);
  for (int64_t k = 0; k < pairs; ++k) {
    for (int64_t r = r0; r < rows; ++r) move(k, r);
    std::fill(out + 2 * (k * width + rows), out + 2 * (k + 1) * width, uint16_t{0});
  }
}

// m's rows interleaved by pairs: pair row k holds (m[2k][c], m[2k + 1][c]) for each column
// c < width (zero past a row's first visible(r) columns, and for a last odd row's missing
// partner), up to column columns(k): [ceil(rows / 2), width] pairs, the columns past
// columns(k) (which no tile reads) left unset.
template <class Visible, class Columns>
void interleaved_pairs(const Matrix& m, int64_t rows, int64_t width, Visible visible,
                       Columns columns, std::vector<uint16_t>& to) {
  const int64_t pairs = (rows + 1) / 2;
  to.resize(static_cast<size_t>(2 * pairs * width));
  for (int64_t k = 0; k < pairs; ++k) {
    const int64_t r = 2 * k;
    const float* first = m.data + r * m.row_stride;
    const float* second = r + 1 < rows ? first + m.row_stride : first;
    const int64_t first_visible = visible(r), second_visible = r + 1 < rows ? visible(r + 1) : 0;
    const int64_t end = columns(k);
    const int64_t whole = whole_chunks(std::min(first_visible, second_visible), end);
    uint16_t* out = to.data() + 2 * k * width;
    int64_t c = 0;
    for (; c < whole; c += kVecLanes)
      store_pairs(out + 2 * c, to_bf16x16(load(first + c)), to_bf16x16(load(second + c)));
    for (; c < end; c += kVecLanes)
      store_pairs(out + 2 * c, bf16_chunk(first, c, first_visible),
                  bf16_chunk(second, c, second_visible));
  }
}

// ---- tril(a b^T) for one matrix: s [T, T] dense ----
// Rows [i0, i0 + R) against the key columns [0, i0 + R): all below-or-on the diagonal of some
// row of the tile; entries above each row's own diagonal are written as zero. Key columns go
// C = 2 Vecs at a time while two are left, as in the weighted sums below: each a[i][k] loaded
// serves 2 multiply-adds. The operands, fp32 or bf16, only decide how a tile accumulates.

// fp32: a read in place, b^T packed [d, width].
struct Fp32Scores {
  const Matrix& a;
  const float* bt;
  int64_t width, d;

  template <int R, int C>
  void accumulate(int64_t i0, int64_t j0, Vec (&acc)[R][C]) const {
    for (int64_t k = 0; k < d; ++k) {
      Vec bk[C];
      for (int c = 0; c < C; ++c) bk[c] = load(bt + k * width + j0 + c * kVecLanes);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const float ak = a.at(i0 + r, k);
        for (int c = 0; c < C; ++c) acc[r][c] += ak * bk[c];
      }
    }
  }
};

// bf16: a's rows (bf16_rows, `a_row` apart) and b^T's pairs [pairs, width] (pairs_transposed).
struct Bf16Scores {
  const uint16_t* a;
  int64_t a_row;
  const uint16_t* bt;
  int64_t width, pairs;

  template <int R, int C>
  void accumulate(int64_t i0, int64_t j0, Vec (&acc)[R][C]) const {
    pair_tile<R, C>(a + i0 * a_row, a_row, 2, bt + 2 * j0, width, 0, pairs, acc);
  }
};

template <int R, int C, class Operands>
void scores_chunks(const Operands& x, int64_t T, int64_t i0, int64_t j0, float scale, float* s) {
  Vec acc[R][C] = {};
  x.template accumulate<R, C>(i0, j0, acc);
  for (int c = 0; c < C; ++c) {
    const int64_t jc = j0 + c * kVecLanes;
    const int64_t count = std::min<int64_t>(kVecLanes, T - jc);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const int64_t visible = i0 + r + 1 - jc;  // columns jc .. i0 + r are on or below
      store_chunk(s + (i0 + r) * T + jc, acc[r][c] * scale, count, visible);
    }
  }
}

template <int R, class Operands>
void scores_tile(const Operands& x, int64_t T, int64_t i0, float scale, AboveDiagonal above,
                 float* s) {
  // Two Vecs a step only into cached outputs: into a large one (streamed zeros: the output goes
  // to memory) they were 15-27% slower than one at [8, 8, 256, 32], where into the fused
  // attention's per-thread buffer they are faster (docs/performance.md, "the causal tiles two
  // Vecs wide").
  const bool to_memory = above == AboveDiagonal::StreamedZeros;
  int64_t j0 = 0;
  if (!to_memory)
    for (; j0 + kVecLanes < i0 + R; j0 += 2 * kVecLanes)  // two Vecs of key columns left
      scores_chunks<R, 2>(x, T, i0, j0, scale, s);
  for (; j0 < i0 + R; j0 += kVecLanes) scores_chunks<R, 1>(x, T, i0, j0, scale, s);
  if (above == AboveDiagonal::Unset) return;
  // Columns past the last Vec chunk the tile computed are all above the diagonal. In large
  // outputs they are written past the caches: the causal ops downstream never read them, and
  // half the scores would else first be read in (read-for-ownership) and evict what the next
  // tiles need. Small outputs stay cached, to be reused when freed.
  const int64_t done = std::min(T, round_up(i0 + R, kVecLanes));
  for (int r = 0; r < R; ++r) {
    float* row = s + (i0 + r) * T;
    int64_t j = done;
    if (to_memory)
      for (; j + kVecLanes <= T; j += kVecLanes) store_streaming(row + j, Vec{});
    std::fill(row + j, row + T, 0.0f);
  }
}

template <class Operands>
void scores_rows(const Operands& x, int64_t T, float scale, AboveDiagonal above, float* s) {
  int64_t i0 = 0;
  for (; i0 + kTileRows <= T; i0 += kTileRows) scores_tile<kTileRows>(x, T, i0, scale, above, s);
  for (; i0 < T; ++i0) scores_tile<1>(x, T, i0, scale, above, s);
  // before another thread reads the matrix
  if (above == AboveDiagonal::StreamedZeros) streaming_stores_done();
}

// ---- y = tril(p) b or tril(p)^T b for one matrix: p [T, T], b [T, d] by rows `width` apart ----
// Output rows [o0, o0 + R), columns [c0, c0 + 16 C). Plain: y[i] = sum over j <= i of p[i, j]
// b[j]. Transposed: y[j] = sum over i >= j of p[i, j] b[i]. In both, only the R - 1 steps
// nearest the diagonal need a per-row test: the rest of the range is visible to all R rows.
// C = 2 column Vecs (attention's head dim 32 whole) share each weight a step loads: 2 loads of
// b and R of p for 2 R multiply-adds, where one Vec took R + 1 loads for R.
template <int R, int C, bool kTransposed>
void weighted_sum_tile(const Matrix& p, const float* b, int64_t width, int64_t T, int64_t d,
                       int64_t o0, int64_t c0, float scale, const OutMatrix& y) {
  Vec acc[R][C] = {};
  auto weight = [&](int64_t out, int64_t other) {
    return kTransposed ? p.at(other, out) : p.at(out, other);
  };
  // Steps every row of the tile sees in full: j < o0 (plain), i >= o0 + R (transposed).
  const int64_t full_begin = kTransposed ? o0 + R : 0, full_end = kTransposed ? T : o0;
  for (int64_t j = full_begin; j < full_end; ++j) {
    Vec bj[C];
    for (int c = 0; c < C; ++c) bj[c] = load(b + j * width + c0 + c * kVecLanes);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const float w = weight(o0 + r, j);
      for (int c = 0; c < C; ++c) acc[r][c] += w * bj[c];
    }
  }
  // The diagonal steps [o0, o0 + R): row o0 + r sees j <= o0 + r (plain) or i >= o0 + r.
  for (int64_t j = o0; j < std::min(T, o0 + R); ++j) {
    Vec bj[C];
    for (int c = 0; c < C; ++c) bj[c] = load(b + j * width + c0 + c * kVecLanes);
    for (int r = 0; r < R; ++r)
      if (kTransposed ? j >= o0 + r : j <= o0 + r)
        for (int c = 0; c < C; ++c) acc[r][c] += weight(o0 + r, j) * bj[c];
  }
  store_output_tile(acc, o0, c0, d, scale, y);
}

// Calls tile.template operator()<R, C>(o0, c0) for every output tile of a weighted sum [T, d]:
// rows [o0, o0 + R), columns [c0, c0 + 16 C), in blocks of kTileRows rows (then single rows) and
// two column Vecs (then one). The fp32 and bf16 sums share it; only their tiles differ.
template <typename Tile>
void for_each_output_tile(int64_t T, int64_t d, const Tile& tile) {
  const auto column_block = [&]<int C>(int64_t c0) {
    int64_t o0 = 0;
    for (; o0 + kTileRows <= T; o0 += kTileRows) tile.template operator()<kTileRows, C>(o0, c0);
    for (; o0 < T; ++o0) tile.template operator()<1, C>(o0, c0);
  };
  int64_t c0 = 0;
  for (; c0 + kVecLanes < d; c0 += 2 * kVecLanes)  // two Vecs' worth of columns left
    column_block.template operator()<2>(c0);
  if (c0 < d) column_block.template operator()<1>(c0);
}

template <bool kTransposed>
void weighted_sum_matrix(const Matrix& p, const Matrix& b, int64_t T, int64_t d, float scale,
                         std::vector<float>& scratch, const OutMatrix& y) {
  // b's rows read in place when they are whole Vecs (attention's head sizes of 16, 32, 64...);
  // otherwise a copy zero-padded to whole Vecs.
  const float* rows = b.data;
  int64_t width = b.row_stride;
  if (d % kVecLanes != 0) {
    width = round_up(d, kVecLanes);
    pack(b, T, d, width, scratch);
    rows = scratch.data();
  }
  for_each_output_tile(T, d, [&]<int R, int C>(int64_t o0, int64_t c0) {
    weighted_sum_tile<R, C, kTransposed>(p, rows, width, T, d, o0, c0, scale, y);
  });
}

// ---- the weighted sums with bf16 operands ----
// Both reduce over pairs of b's rows, interleaved (b_pairs). The entries of p above the
// diagonal, which the sums must not see, go into p's bf16 copy as zeros, so no tile tests a row
// against the diagonal. Output rows [o0, o0 + R), columns [c0, c0 + 16 C), as in the fp32 tiles.
// Plain: y[i] = sum over pairs k of p's row i (bf16 rows, `a_row` apart) by b's pair row k, up
// to the tile's last row. Transposed: y[j] = sum over pairs k from row o0 on of (p[2k][j],
// p[2k + 1][j]) by b's pair row k: p interleaved as b is, its pairs read down a column.
template <int R, int C, bool kTransposed>
void weighted_sum_bf16_tile(const uint16_t* a, int64_t a_row, const uint16_t* b, int64_t b_width,
                            int64_t T, int64_t d, int64_t o0, int64_t c0, float scale,
                            const OutMatrix& y) {
  Vec acc[R][C] = {};
  const int64_t pairs = (T + 1) / 2;
  if (kTransposed)
    pair_tile<R, C>(a + 2 * o0, 2, 2 * a_row, b + 2 * c0, b_width, o0 / 2, pairs, acc);
  else
    pair_tile<R, C>(a + o0 * a_row, a_row, 2, b + 2 * c0, b_width, 0,
                    std::min(pairs, (o0 + R + 1) / 2), acc);
  store_output_tile(acc, o0, c0, d, scale, y);
}

template <bool kTransposed>
void weighted_sum_bf16(const Matrix& p, const Matrix& b, int64_t T, int64_t d, float scale,
                       ProductScratch& scratch, const OutMatrix& y) {
  const int64_t width = round_up(T, kVecLanes), b_width = round_up(d, kVecLanes);
  std::vector<uint16_t>& a = scratch.a_bf16;
  if (kTransposed) {
    // p interleaved by pairs of rows, zero above the diagonal. The tiles of rows from o0 read
    // pair rows from o0 / 2 on, in p's columns [o0, o0 + kTileRows): pair row k as far as
    // column 2k + 1 + kTileRows.
    interleaved_pairs(
        p, T, width, [](int64_t r) { return r + 1; },
        [&](int64_t k) { return std::min(width, round_up(2 * k + 1 + kTileRows, kVecLanes)); }, a);
  } else {
    // p's rows in bf16, zero above the diagonal, each as far as its tile reads it: to the end
    // of its block of kTileRows rows.
    a.resize(static_cast<size_t>(T * width));
    for (int64_t i = 0; i < T; ++i)
      bf16_row(p.data + i * p.row_stride, i + 1,
               round_up(std::min(T, round_up(i + 1, kTileRows)), kVecLanes), a.data() + i * width);
  }
  interleaved_pairs(
      b, T, b_width, [&](int64_t) { return d; }, [&](int64_t) { return b_width; }, scratch.b_bf16);
  const uint16_t* pairs = scratch.b_bf16.data();
  for_each_output_tile(T, d, [&]<int R, int C>(int64_t o0, int64_t c0) {
    weighted_sum_bf16_tile<R, C, kTransposed>(a.data(), width, pairs, b_width, T, d, o0, c0, scale,
                                              y);
  });
}

// Runs body(m, scratch) for every matrix m of the batch, in parallel when the call is large
// enough; each thread has its own packing scratch.
template <typename Body>
void for_each_matrix(int64_t count, int64_t work, Body body) {
  parallel_region(work >= kCausalParallelMinWork, [&] {
    ProductScratch scratch;
#pragma omp for schedule(static)
    for (int64_t m = 0; m < count; ++m) body(m, scratch);
  });
}

Tensor causal_sum(const char* op, const Tensor& p_in, const Tensor& b_in, float scale,
                  bool transposed, MatmulPrecision precision) {
  check_weights(op, p_in, b_in);
  Tensor p_keep, b_keep;
  const std::vector<Matrix> p = matrices(p_in, p_keep), b = matrices(b_in, b_keep);
  const int64_t T = b_in.size(-2), d = b_in.size(-1);
  Tensor y = Tensor::empty(b_in.shape());
  if (y.numel() == 0) return y;
  float* out = y.data();
  for_each_matrix(
      static_cast<int64_t>(p.size()), y.numel() * T / 2, [&](int64_t m, ProductScratch& scratch) {
        causal_weighted_sum_matrix(p[static_cast<size_t>(m)], b[static_cast<size_t>(m)], T, d,
                                   scale, transposed, precision, scratch, {out + m * T * d, d});
      });
  return y;
}

// Where each matrix of t [..., rows, cols] starts, from t's data, one per batch index (last
// batch axis fastest).
std::vector<int64_t> matrix_offsets(const Tensor& t) {
  const Shape batch = batch_of(t);
  std::vector<int64_t> offsets(static_cast<size_t>(numel(batch)));
  std::vector<int64_t> index(batch.size(), 0);
  for (int64_t& offset : offsets) {
    offset = 0;
    for (size_t d = 0; d < batch.size(); ++d) offset += index[d] * t.strides()[d];
    for (size_t d = batch.size(); d-- > 0;)  // next batch index, last axis fastest
      if (++index[d] < batch[d])
        break;
      else
        index[d] = 0;
  }
  return offsets;
}

int64_t row_stride_of(const Tensor& t) {
  return t.strides()[t.strides().size() - 2];
}
}  // namespace

std::vector<Matrix> matrices(const Tensor& t, Tensor& keep) {
  keep = t.strides().back() == 1 || t.size(-1) == 1 ? t : contiguous_copy(t);
  std::vector<Matrix> out;
  for (int64_t offset : matrix_offsets(keep))
    out.push_back({keep.data() + offset, row_stride_of(keep)});
  return out;
}

std::vector<OutMatrix> output_matrices(Tensor& t) {
  MMX_CHECK(t.dim() >= 2 && (t.strides().back() == 1 || t.size(-1) == 1),
            "causal products: an output needs adjacent columns, got strides ",
            to_string(t.strides()));
  std::vector<OutMatrix> out;
  for (int64_t offset : matrix_offsets(t)) out.push_back({t.data() + offset, row_stride_of(t)});
  return out;
}

void causal_scores_matrix(const Matrix& a, const Matrix& b, int64_t T, int64_t d, float scale,
                          AboveDiagonal above, MatmulPrecision precision, ProductScratch& scratch,
                          float* s) {
  const int64_t width = round_up(T, kVecLanes);
  if (precision == MatmulPrecision::bf16) {
    bf16_rows(a, T, d, scratch.a_bf16);
    pairs_transposed(b, T, d, width, scratch.rows_bf16, scratch.b_bf16);
    scores_rows(Bf16Scores{scratch.a_bf16.data(), round_up(d, kVecLanes), scratch.b_bf16.data(),
                           width, (d + 1) / 2},
                T, scale, above, s);
    return;
  }
  pack_transposed(b, T, d, width, scratch.floats);
  scores_rows(Fp32Scores{a, scratch.floats.data(), width, d}, T, scale, above, s);
}

void causal_weighted_sum_matrix(const Matrix& p, const Matrix& b, int64_t T, int64_t d, float scale,
                                bool transposed, MatmulPrecision precision, ProductScratch& scratch,
                                const OutMatrix& y) {
  if (precision == MatmulPrecision::bf16) {
    if (transposed)
      weighted_sum_bf16<true>(p, b, T, d, scale, scratch, y);
    else
      weighted_sum_bf16<false>(p, b, T, d, scale, scratch, y);
  } else if (transposed) {
    weighted_sum_matrix<true>(p, b, T, d, scale, scratch.floats, y);
  } else {
    weighted_sum_matrix<false>(p, b, T, d, scale, scratch.floats, y);
  }
}

MatmulPrecision causal_products_precision(MatmulPrecision requested) {
  return dnnl_matmul_has_amx() ? MatmulPrecision::fp32 : requested;
}

Tensor causal_scores_forward(const Tensor& a_in, const Tensor& b_in, float scale,
                             MatmulPrecision precision) {
  check_pair("causal_scores", a_in, b_in);
  Tensor a_keep, b_keep;
  const std::vector<Matrix> a = matrices(a_in, a_keep), b = matrices(b_in, b_keep);
  const int64_t T = a_in.size(-2), d = a_in.size(-1);
  Shape shape = batch_of(a_in);
  shape.push_back(T);
  shape.push_back(T);
  Tensor s = Tensor::empty(shape);
  if (s.numel() == 0) return s;
  float* out = s.data();
  const AboveDiagonal above = s.numel() * int64_t{sizeof(float)} >= kStreamingBytes
                                  ? AboveDiagonal::StreamedZeros
                                  : AboveDiagonal::Zeros;
  for_each_matrix(static_cast<int64_t>(a.size()), s.numel() * d / 2,
                  [&](int64_t m, ProductScratch& scratch) {
                    causal_scores_matrix(a[static_cast<size_t>(m)], b[static_cast<size_t>(m)], T, d,
                                         scale, above, precision, scratch, out + m * T * T);
                  });
  return s;
}

Tensor causal_weighted_sum_forward(const Tensor& p, const Tensor& b, float scale,
                                   MatmulPrecision precision) {
  return causal_sum("causal_weighted_sum", p, b, scale, /*transposed=*/false, precision);
}

Tensor causal_transposed_sum_forward(const Tensor& p, const Tensor& b, float scale,
                                     MatmulPrecision precision) {
  return causal_sum("causal_transposed_sum", p, b, scale, /*transposed=*/true, precision);
}

// The naive references: batch-major double loops over dense copies.
namespace {
struct DenseBatch {
  std::vector<float> a, b;
  int64_t batch, T, d;
};

// With bf16, the operands as the bf16 products see them.
DenseBatch dense_batch(const Tensor& a, const Tensor& b, MatmulPrecision precision) {
  DenseBatch v{a.to_vector(), b.to_vector(), numel(batch_of(b)), b.size(-2), b.size(-1)};
  if (precision == MatmulPrecision::bf16)
    for (std::vector<float>* operand : {&v.a, &v.b})
      for (float& x : *operand) x = round_to_bf16(x);
  return v;
}
}  // namespace

Tensor causal_scores_forward_naive(const Tensor& a, const Tensor& b, float scale,
                                   MatmulPrecision precision) {
  check_pair("causal_scores", a, b);
  const DenseBatch v = dense_batch(a, b, precision);
  Shape shape = batch_of(a);
  shape.push_back(v.T);
  shape.push_back(v.T);
  Tensor s = Tensor::zeros(shape);
  for (int64_t h = 0; h < v.batch; ++h)
    for (int64_t i = 0; i < v.T; ++i)
      for (int64_t j = 0; j <= i; ++j) {
        double dot = 0.0;
        for (int64_t k = 0; k < v.d; ++k)
          dot += static_cast<double>(v.a[(h * v.T + i) * v.d + k]) * v.b[(h * v.T + j) * v.d + k];
        s.data()[(h * v.T + i) * v.T + j] = static_cast<float>(scale * dot);
      }
  return s;
}

// y[i] = sum over j <= i of p[i, j] b[j], or (transposed) y[j] = sum over i >= j of p[i, j] b[i].
namespace {
Tensor causal_sum_naive(const char* op, const Tensor& p, const Tensor& b, bool transposed,
                        float scale, MatmulPrecision precision) {
  check_weights(op, p, b);
  const DenseBatch v = dense_batch(p, b, precision);  // v.a holds p
  Tensor y = Tensor::empty(b.shape());
  for (int64_t h = 0; h < v.batch; ++h)
    for (int64_t out = 0; out < v.T; ++out)
      for (int64_t k = 0; k < v.d; ++k) {
        double total = 0.0;
        for (int64_t other = transposed ? out : 0; other <= (transposed ? v.T - 1 : out); ++other) {
          const int64_t i = transposed ? other : out, j = transposed ? out : other;
          total +=
              static_cast<double>(v.a[(h * v.T + i) * v.T + j]) * v.b[(h * v.T + other) * v.d + k];
        }
        y.data()[(h * v.T + out) * v.d + k] = static_cast<float>(scale * total);
      }
  return y;
}
}  // namespace

Tensor causal_weighted_sum_forward_naive(const Tensor& p, const Tensor& b, float scale,
                                         MatmulPrecision precision) {
  return causal_sum_naive("causal_weighted_sum", p, b, /*transposed=*/false, scale, precision);
}

Tensor causal_transposed_sum_forward_naive(const Tensor& p, const Tensor& b, float scale,
                                           MatmulPrecision precision) {
  return causal_sum_naive("causal_transposed_sum", p, b, /*transposed=*/true, scale, precision);
}

}  // namespace mmx::kernels
