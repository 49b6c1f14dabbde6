#include "engine/kernels/multimax.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/error.hpp"
#include "engine/kernels/elementwise.hpp"
#include "engine/kernels/kept_scores.hpp"
#include "engine/kernels/masked_softmax.hpp"
#include "engine/kernels/row_layout.hpp"
#include "engine/kernels/vec16.hpp"
#include "engine/parallel_region.hpp"

namespace mmx::kernels {

namespace {

using Coeffs = MultiMaxCoeffs;

// sigma(x) of docs/design.md "MultiMax", of one float or of a chunk (V = float or Vec): one
// formula, so the scalar loops and the chunk loops agree bit for bit. vmax(0, a) is
// `a < 0 ? 0 : a`, what std::max(a, 0.0f) computes. A score of -inf stays -inf (a column masked
// in x itself): the modulation would turn it into -inf + inf = NaN.
template <int Order, class V>
inline V modulate(V x, Coeffs c) {
  const V zero{}, minus_inf = zero - INFINITY;
  const auto clamp = [zero](V a) { return vmax(zero, a); };
  V s = x + c.t0 * clamp(c.r0 - x) + c.t1 * clamp(x - c.r1);
  if constexpr (Order == 2) {
    const V below = clamp(c.r2 - x), above = clamp(x - c.r3);
    s += c.t2 * below * below + c.t3 * above * above;
  }
  return x == -INFINITY ? minus_inf : s;
}

// sigma as the kept scores' Modulation (kept_scores.hpp).
template <int Order>
struct Modulation {
  Coeffs c;
  template <class V>
  V operator()(V x) const {
    return modulate<Order>(x, c);
  }
};

// Coeffs by value, here and below: through a reference, the stores to p (or dx) might alias
// them, so GCC reloads them every element and leaves the loop scalar.
template <int Order>
void forward_row(const float* x, const float* mask, int64_t active, int64_t cols, Coeffs c,
                 float* p) {
  // The maximum afterwards, as Vecs (max_row): an `omp simd reduction(max)` here ended every row
  // with GCC's scalar fold of the lanes (vec16.hpp), a fixed cost that short causal rows feel.
  if (mask) {
#pragma omp simd
    for (int64_t j = 0; j < active; ++j) p[j] = modulate<Order>(x[j], c) + mask[j];
  } else {
#pragma omp simd
    for (int64_t j = 0; j < active; ++j) p[j] = modulate<Order>(x[j], c);
  }
  softmax_row_in_place(p, active, cols, max_row(p, active));
}

// The backward's sums stay Vecs over many rows (vec16.hpp): written as one
// `#pragma omp simd reduction` over the row, GCC folded the 8 sums into scalars after every
// 256-column row (30% of the backward's samples in perf); written with lane arrays, it turned
// the selected adds into masked stores that defeat store forwarding.
constexpr int kRowsPerFold = 16;  // rows summed per lane before folding into doubles

// One chunk of kVecLanes columns of a row whose sum(p * g) is `dot`: adds its terms into the
// sums and returns its dx. The sums are named fields of a local that GCC keeps in registers
// across a row loop (as a Vec[8], it kept them in registers but also stored all of them to the
// stack every chunk: 8 extra 64-byte stores per 16 columns).
template <int Order>
inline Vec backward_chunk(Vec xv, Vec pv, Vec gv, Vec dot, Coeffs c, LaneSums& sums) {
  // p == 0 where x is -inf, so the column adds nothing; 0 keeps 0 * inf out of the sums.
  xv = xv == -INFINITY ? Vec{} : xv;
  const Vec ds = pv * (gv - dot);
  // Strict brackets as selects (masked adds), not products with 0/1. relu(r0 - x) is r0 - x
  // where x < r0, so ds * relu(r0 - x) is (ds where x < r0) * (r0 - x): one compare.
  const VecMask in_low = xv<c.r0, in_high = xv> c.r1;
  const Vec ds_low = in_low ? ds : Vec{}, ds_high = in_high ? ds : Vec{};
  Vec slope = 1.0f + (in_low ? broadcast(-c.t0) : Vec{}) + (in_high ? broadcast(c.t1) : Vec{});
  sums.t0 += ds_low * (c.r0 - xv);
  sums.t1 += ds_high * (xv - c.r1);
  sums.low0 += ds_low;
  sums.high1 += ds_high;
  if constexpr (Order == 2) {
    const Vec below2 = relu(c.r2 - xv), above3 = relu(xv - c.r3);
    slope += (2.0f * c.t3) * above3 - (2.0f * c.t2) * below2;
    const Vec ds_below2 = ds * below2, ds_above3 = ds * above3;
    sums.t2 += ds_below2 * below2;
    sums.t3 += ds_above3 * above3;
    sums.low2 += ds_below2;
    sums.high3 += ds_above3;
  }
  return ds * slope;
}

// The last partial chunk of a row that ends at `active` inside [j, j + kVecLanes): its columns
// from `active` on read as p = 0, which adds nothing. Read and written whole where the row goes
// on to `cols` (dx is 0 after `active`), through a padded copy where it does not. Returns where
// its dx ends.
template <int Order>
inline int64_t backward_partial_chunk(const float* x, const float* p, const float* g, int64_t j,
                                      int64_t active, int64_t cols, Vec dot, Coeffs c, float* dx,
                                      LaneSums& sums) {
  if (j + kVecLanes <= cols) {
    const VecMask live = lanes_below(active - j);
    store(dx + j, backward_chunk<Order>(live ? load(x + j) : Vec{}, live ? load(p + j) : Vec{},
                                        live ? load(g + j) : Vec{}, dot, c, sums));
    return j + kVecLanes;
  }
  alignas(64) float xt[kVecLanes] = {}, pt[kVecLanes] = {}, gt[kVecLanes] = {}, dxt[kVecLanes];
  std::copy(x + j, x + active, xt);
  std::copy(p + j, p + active, pt);
  std::copy(g + j, g + active, gt);
  store(dxt, backward_chunk<Order>(load(xt), load(pt), load(gt), dot, c, sums));
  std::copy(dxt, dxt + (active - j), dx + j);
  return active;
}

// Adds the lane sums into acc (8 doubles) and zeroes them.
void fold_lane_sums(LaneSums& lane_sums, double* acc) {
  const Vec in_order[8] = {lane_sums.t0,   lane_sums.t1,    lane_sums.t2,   lane_sums.t3,
                           lane_sums.low0, lane_sums.high1, lane_sums.low2, lane_sums.high3};
  for (int k = 0; k < 8; ++k)
    for (int64_t l = 0; l < kVecLanes; ++l) acc[k] += in_order[k][l];
  lane_sums = LaneSums{};
}

// Writes dx[0, cols) and adds this row's terms into the sums. Inline, so that a row loop keeps
// the sums in registers across its rows (backward_matrix).
template <int Order>
inline void backward_row(const float* x, const float* p, const float* g, int64_t active,
                         int64_t cols, Coeffs c, float* dx, LaneSums& lane_sums, bool stream) {
  const Vec dot = broadcast(dot_row(p, g, active));
  LaneSums sums = lane_sums;
  int64_t j = 0;
  for (; j + kVecLanes <= active; j += kVecLanes) {
    const Vec dxv = backward_chunk<Order>(load(x + j), load(p + j), load(g + j), dot, c, sums);
    if (stream)
      store_streaming(dx + j, dxv);
    else
      store(dx + j, dxv);
  }
  if (j < active)  // causal rows end here 15 times in 16
    j = backward_partial_chunk<Order>(x, p, g, j, active, cols, dot, c, dx, sums);
  lane_sums = sums;
  std::fill(dx + j, dx + cols, 0.0f);
}

// Shared by forward and backward: which head's coefficients row `row` uses.
int64_t head_of(int64_t row, int64_t heads, int64_t queries) {
  return heads == 1 ? 0 : (row / queries) % heads;
}

// MultiMaxRowsBackward::matrix's rows: backward_row's, each up to the end of its diagonal's chunk
// (cols = that end, so nothing after it is written).
template <int Order>
void backward_matrix(const float* kept, const int64_t* kept_at, const float* p, const float* g,
                     int64_t T, Coeffs c, float* dx, LaneSums& lane_sums, double* totals,
                     int& rows_in_lanes) {
  LaneSums sums = lane_sums;
  for (int64_t i = 0; i < T; ++i) {
    const int64_t diagonal_end = std::min(T, (i / kVecLanes + 1) * kVecLanes);
    backward_row<Order>(kept + kept_at[i], p + i * T, g + i * T, i + 1, diagonal_end, c, dx + i * T,
                        sums, /*stream=*/false);
    if (++rows_in_lanes == kRowsPerFold) {
      fold_lane_sums(sums, totals);
      rows_in_lanes = 0;
    }
  }
  lane_sums = sums;
}

}  // namespace

int64_t multimax_heads(const char* op, const Tensor& x, const MultiMaxParams& params) {
  const Tensor& t = params.t;
  const Tensor& r = params.r;
  const int order = params.order;
  MMX_CHECK(order == 1 || order == 2, op, ": order must be 1 or 2, got ", order);
  MMX_CHECK(t.defined() && r.defined(), op, ": the parameters t and r must both be defined");
  MMX_CHECK(t.shape() == r.shape(), op, ": t of shape ", to_string(t.shape()), " and r of shape ",
            to_string(r.shape()), " differ");
  const Shape& s = t.shape();
  MMX_CHECK((s.size() == 1 || s.size() == 2) && s.back() == 4, op,
            ": t and r must have shape [4] (per layer) or [H, 4] (per head), got ", to_string(s));
  if (s.size() == 1) return 1;
  MMX_CHECK(x.dim() >= 3 && x.size(-3) == s[0], op, ": per-head parameters of shape ", to_string(s),
            " need an input of shape [.., ", s[0], ", T, S], got ", to_string(x.shape()));
  return s[0];
}

std::vector<MultiMaxCoeffs> multimax_coeffs(const MultiMaxParams& params) {
  const std::vector<float> tv = params.t.to_vector(), rv = params.r.to_vector();
  std::vector<MultiMaxCoeffs> heads(tv.size() / 4);
  for (size_t h = 0; h < heads.size(); ++h) {
    const float* th = tv.data() + 4 * h;
    const float* rh = rv.data() + 4 * h;
    heads[h] = {th[0], th[1], th[2], th[3], rh[0], rh[1], rh[2], rh[3]};
  }
  return heads;
}

void multimax_forward_row(const float* x, const float* mask, int64_t active, int64_t cols,
                          MultiMaxCoeffs c, int order, float* p) {
  if (order == 1)
    forward_row<1>(x, mask, active, cols, c, p);
  else
    forward_row<2>(x, mask, active, cols, c, p);
}

RowNormalization multimax_forward_row_keeping(const float* x, int64_t active, int64_t cols,
                                              MultiMaxCoeffs c, int order, float* p, float* kept) {
  return order == 1 ? keep_row(x, active, cols, Modulation<1>{c}, p, kept)
                    : keep_row(x, active, cols, Modulation<2>{c}, p, kept);
}

void multimax_recompute_matrix(const float* kept, const int64_t* kept_at, const float* norms,
                               int64_t T, MultiMaxCoeffs c, int order, bool zero_above, float* p) {
  if (order == 1)
    recompute_weights(kept, kept_at, norms, T, Modulation<1>{c}, zero_above, p);
  else
    recompute_weights(kept, kept_at, norms, T, Modulation<2>{c}, zero_above, p);
}

void multimax_modulate_row(const float* x, int64_t n, MultiMaxCoeffs c, int order, float* y) {
  if (order == 1) {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) y[j] = modulate<1>(x[j], c);
  } else {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) y[j] = modulate<2>(x[j], c);
  }
}

MultiMaxRowsBackward::MultiMaxRowsBackward(const MultiMaxParams& params, int64_t heads, int threads)
    : coeffs_(multimax_coeffs(params)),
      order_(params.order),
      heads_(heads),
      sums_(static_cast<size_t>(threads * heads)) {}

void MultiMaxRowsBackward::row(int thread, int64_t h, const float* x, const float* p,
                               const float* g, int64_t active, int64_t cols, float* dx,
                               bool stream) {
  HeadSums& mine = sums_[static_cast<size_t>(thread * heads_ + h)];
  const Coeffs& c = coeffs_[static_cast<size_t>(h)];
  if (order_ == 1)
    backward_row<1>(x, p, g, active, cols, c, dx, mine.lanes, stream);
  else
    backward_row<2>(x, p, g, active, cols, c, dx, mine.lanes, stream);
  if (++mine.rows_in_lanes == kRowsPerFold) {
    fold_lane_sums(mine.lanes, mine.totals);
    mine.rows_in_lanes = 0;
  }
}

void MultiMaxRowsBackward::matrix(int thread, int64_t h, const float* kept, const int64_t* kept_at,
                                  const float* p, const float* g, int64_t T, float* dx) {
  HeadSums& mine = sums_[static_cast<size_t>(thread * heads_ + h)];
  const Coeffs& c = coeffs_[static_cast<size_t>(h)];
  if (order_ == 1)
    backward_matrix<1>(kept, kept_at, p, g, T, c, dx, mine.lanes, mine.totals, mine.rows_in_lanes);
  else
    backward_matrix<2>(kept, kept_at, p, g, T, c, dx, mine.lanes, mine.totals, mine.rows_in_lanes);
}

void MultiMaxRowsBackward::thread_done(int thread) {
  for (int64_t h = 0; h < heads_; ++h) {
    HeadSums& mine = sums_[static_cast<size_t>(thread * heads_ + h)];
    fold_lane_sums(mine.lanes, mine.totals);
  }
}

void MultiMaxRowsBackward::gradients(Tensor& dt, Tensor& dr) const {
  float* dtd = dt.data();
  float* drd = dr.data();
  const int64_t threads = static_cast<int64_t>(sums_.size()) / heads_;
  for (int64_t h = 0; h < heads_; ++h) {
    double sums[8] = {};
    for (int64_t thread = 0; thread < threads; ++thread) {  // in order: the same sums every run
      const HeadSums& theirs = sums_[static_cast<size_t>(thread * heads_ + h)];
      for (int i = 0; i < 8; ++i) sums[i] += theirs.totals[i];
    }
    const Coeffs& c = coeffs_[static_cast<size_t>(h)];
    const int used = order_ == 1 ? 2 : 4;
    const double r_factor[4] = {c.t0, -c.t1, 2.0 * c.t2, -2.0 * c.t3};
    for (int k = 0; k < used; ++k) {
      dtd[h * 4 + k] = static_cast<float>(sums[k]);
      drd[h * 4 + k] = static_cast<float>(r_factor[k] * sums[4 + k]);
    }
  }
}

Tensor multimax_forward(const Tensor& x, const MultiMaxParams& params, const Tensor& mask,
                        bool causal) {
  const int64_t heads = multimax_heads("multimax", x, params);
  const RowLayout layout = row_layout("multimax", x, mask, causal);
  const std::vector<Coeffs> coeffs = multimax_coeffs(params);
  const Tensor xc = contiguous_copy(x);
  Tensor p = Tensor::empty(x.shape());
  const float* xd = xc.data();
  float* pd = p.data();
  const int64_t cols = layout.cols;
  parallel_region(worth_threads(layout.rows, cols), [&] {
#pragma omp for schedule(static)
    for (int64_t row = 0; row < layout.rows; ++row)
      multimax_forward_row(xd + row * cols, layout.mask_row(row), layout.active_cols(row), cols,
                           coeffs[static_cast<size_t>(head_of(row, heads, layout.queries))],
                           params.order, pd + row * cols);
  });
  return p;
}

MultiMaxGradients multimax_backward(const Tensor& x, const Tensor& p, const Tensor& g,
                                    const MultiMaxParams& params, bool causal, Tensor into) {
  const int64_t heads = multimax_heads("multimax backward", x, params);
  const RowLayout layout = row_layout("multimax backward", x, Tensor(), causal);
  const Tensor xc = contiguous_copy(x), pc = contiguous_copy(p), gc = contiguous_copy(g);
  // Each row reads its g (the dot) before writing dx, and each chunk its g before its dx, so
  // `into` may be g's own buffer.
  MultiMaxGradients grads{output_or_into("multimax backward", into, x.shape()),
                          Tensor::zeros(params.t.shape()), Tensor::zeros(params.r.shape())};
  const int64_t cols = layout.cols;
  const bool threaded = worth_threads(layout.rows, cols);
  const bool stream_dx = grads.dx.numel() * int64_t{sizeof(float)} >= kStreamingBytes;
  MultiMaxRowsBackward rows(params, heads, threaded ? omp_get_max_threads() : 1);
  parallel_region(threaded, [&] {
    const int thread = omp_get_thread_num();
#pragma omp for schedule(static)
    for (int64_t row = 0; row < layout.rows; ++row) {
      const int64_t at = row * cols;
      rows.row(thread, head_of(row, heads, layout.queries), xc.data() + at, pc.data() + at,
               gc.data() + at, layout.active_cols(row), cols, grads.dx.data() + at, stream_dx);
    }
    rows.thread_done(thread);
    if (stream_dx) streaming_stores_done();
  });
  rows.gradients(grads.dt, grads.dr);
  return grads;
}

// ----------------------------------------------------------------- naive references (double)

namespace {
double relu(double v) {
  return v > 0.0 ? v : 0.0;
}
double step(bool condition) {
  return condition ? 1.0 : 0.0;
}
}  // namespace

Tensor multimax_forward_naive(const Tensor& x, const MultiMaxParams& params, const Tensor& mask,
                              bool causal) {
  const int64_t heads = multimax_heads("multimax", x, params);
  const int order = params.order;
  const std::vector<float> xv = x.to_vector(), tv = params.t.to_vector(), rv = params.r.to_vector();
  const std::vector<float> mv = dense_additive_mask("multimax", x, mask, causal).to_vector();
  const int64_t cols = x.size(-1), queries = x.dim() >= 2 ? x.size(-2) : 1;
  Tensor p = Tensor::zeros(x.shape());
  std::vector<double> s(static_cast<size_t>(cols));
  for (int64_t row = 0; row * cols < x.numel(); ++row) {
    const int64_t h = heads == 1 ? 0 : (row / queries) % heads;
    const float* th = tv.data() + 4 * h;
    const float* rh = rv.data() + 4 * h;
    double top = -INFINITY;
    for (int64_t j = 0; j < cols; ++j) {
      const double v = xv[row * cols + j];
      double sigma = v + th[0] * relu(rh[0] - v) + th[1] * relu(v - rh[1]);
      if (order == 2)
        sigma += th[2] * std::pow(relu(rh[2] - v), 2) + th[3] * std::pow(relu(v - rh[3]), 2);
      const bool masked = v == -INFINITY || mv[row * cols + j] == -INFINITY;
      s[j] = masked ? -INFINITY : sigma + mv[row * cols + j];
      top = std::max(top, s[j]);
    }
    if (top == -INFINITY) continue;
    double total = 0.0;
    for (int64_t j = 0; j < cols; ++j) total += std::exp(s[j] - top);
    for (int64_t j = 0; j < cols; ++j)
      p.data()[row * cols + j] = static_cast<float>(std::exp(s[j] - top) / total);
  }
  return p;
}

MultiMaxGradients multimax_backward_naive(const Tensor& x, const Tensor& p, const Tensor& g,
                                          const MultiMaxParams& params) {
  const int64_t heads = multimax_heads("multimax backward", x, params);
  const int order = params.order;
  const std::vector<float> xv = x.to_vector(), pv = p.to_vector(), gv = g.to_vector();
  const std::vector<float> tv = params.t.to_vector(), rv = params.r.to_vector();
  const int64_t cols = x.size(-1), queries = x.dim() >= 2 ? x.size(-2) : 1;
  MultiMaxGradients grads{Tensor::zeros(x.shape()), Tensor::zeros(params.t.shape()),
                          Tensor::zeros(params.r.shape())};
  std::vector<double> dt(tv.size(), 0.0), dr(rv.size(), 0.0);
  for (int64_t row = 0; row * cols < x.numel(); ++row) {
    const int64_t h = heads == 1 ? 0 : (row / queries) % heads;
    const double t0 = tv[4 * h], t1 = tv[4 * h + 1], t2 = tv[4 * h + 2], t3 = tv[4 * h + 3];
    const double r0 = rv[4 * h], r1 = rv[4 * h + 1], r2 = rv[4 * h + 2], r3 = rv[4 * h + 3];
    double dot = 0.0;
    for (int64_t j = row * cols; j < (row + 1) * cols; ++j)
      dot += static_cast<double>(pv[j]) * gv[j];
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t k = row * cols + j;
      if (pv[k] == 0.0f) continue;  // a masked (or vanished) column: every term is 0
      const double v = xv[k];
      const double ds = pv[k] * (gv[k] - dot);
      double slope = 1.0 - t0 * step(v < r0) + t1 * step(v > r1);
      dt[4 * h] += ds * relu(r0 - v);
      dr[4 * h] += ds * t0 * step(v < r0);
      dt[4 * h + 1] += ds * relu(v - r1);
      dr[4 * h + 1] -= ds * t1 * step(v > r1);
      if (order == 2) {
        slope += -2.0 * t2 * relu(r2 - v) + 2.0 * t3 * relu(v - r3);
        dt[4 * h + 2] += ds * relu(r2 - v) * relu(r2 - v);
        dr[4 * h + 2] += ds * 2.0 * t2 * relu(r2 - v);
        dt[4 * h + 3] += ds * relu(v - r3) * relu(v - r3);
        dr[4 * h + 3] -= ds * 2.0 * t3 * relu(v - r3);
      }
      grads.dx.data()[k] = static_cast<float>(ds * slope);
    }
  }
  for (size_t i = 0; i < dt.size(); ++i) {
    grads.dt.data()[i] = static_cast<float>(dt[i]);
    grads.dr.data()[i] = static_cast<float>(dr[i]);
  }
  return grads;
}

}  // namespace mmx::kernels
