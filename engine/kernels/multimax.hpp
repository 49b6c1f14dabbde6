// MultiMax kernels: the fused modulate + mask + softmax forward over the last axis and its
// backward (dx and the gradients of t and r), with naive double-precision references beside them.
#pragma once

#include <vector>

#include "engine/kernels/masked_softmax.hpp"
#include "engine/kernels/vec16.hpp"
#include "engine/multimax_params.hpp"
#include "engine/tensor.hpp"

namespace mmx::kernels {

// The heads H of `params` for x: t and r hold 4 values per layer ([4], H = 1) or per head ([H, 4],
// x of shape [.., H, T, S]); order 1 reads t[0..1], r[0..1] only. Throws naming `op` and the
// shapes when they do not fit.
int64_t multimax_heads(const char* op, const Tensor& x, const MultiMaxParams& params);

// p = softmax(sigma(x) + mask) over the last axis; see docs/design.md "MultiMax". Rows with
// every column masked are all zeros. The mask (may be undefined) broadcasts to x; causal skips
// column j > query i of the last two axes.
Tensor multimax_forward(const Tensor& x, const MultiMaxParams& params, const Tensor& mask,
                        bool causal);
Tensor multimax_forward_naive(const Tensor& x, const MultiMaxParams& params, const Tensor& mask,
                              bool causal);

struct MultiMaxGradients {
  Tensor dx;  // x's shape
  Tensor dt;  // t's shape
  Tensor dr;  // r's shape
};
// From x, p = multimax(x) and g = dL/dp. Needs no mask: masked columns have p = 0, which zeroes
// their every term; `causal` only lets the loops stop early. dx goes into `into` when given
// (dense, x's shape; it may be g itself), else a new tensor.
MultiMaxGradients multimax_backward(const Tensor& x, const Tensor& p, const Tensor& g,
                                    const MultiMaxParams& params, bool causal,
                                    Tensor into = Tensor());
MultiMaxGradients multimax_backward_naive(const Tensor& x, const Tensor& p, const Tensor& g,
                                          const MultiMaxParams& params);

// ---- one row at a time: what the two kernels above run per row, and what the fused causal
// attention (causal_attention.hpp) runs per row of each (batch, head) matrix ----

// One head's t and r as plain floats, which the SIMD loops keep in registers.
struct MultiMaxCoeffs {
  float t0, t1, t2, t3;
  float r0, r1, r2, r3;
};
// One per head (one for per-layer parameters).
std::vector<MultiMaxCoeffs> multimax_coeffs(const MultiMaxParams& params);

// p[0, cols) = softmax(sigma(x) + mask) of one row (mask may be nullptr), zero from `active` on.
void multimax_forward_row(const float* x, const float* mask, int64_t active, int64_t cols,
                          MultiMaxCoeffs c, int order, float* p);

// multimax_forward_row without a mask that also keeps x for the backward, in the same pass:
// kept_scores.hpp's keep_row with MultiMax's modulation (its layout, and why the kept scores are
// written past the caches: docs/performance.md, "MultiMax's kept scores"). p is bit for bit
// multimax_forward_row's; the returned normalization lets multimax_recompute_matrix give it again.
RowNormalization multimax_forward_row_keeping(const float* x, int64_t active, int64_t cols,
                                              MultiMaxCoeffs c, int order, float* p, float* kept);
// A causal [T, T] matrix's p again from what multimax_forward_row_keeping kept and returned:
// kept_scores.hpp's recompute_weights with MultiMax's modulation.
void multimax_recompute_matrix(const float* kept, const int64_t* kept_at, const float* norms,
                               int64_t T, MultiMaxCoeffs c, int order, bool zero_above, float* p);

// y[0, n) = sigma(x[0, n)) alone, without the softmax: MultiMax on a GPT's output logits
// (MultiMaxParameters::modulate), one row at a time. y may be x.
void multimax_modulate_row(const float* x, int64_t n, MultiMaxCoeffs c, int order, float* y);

// The backward's 8 running sums, per lane: the t gradients t0..t3, and the bare indicator /
// relu sums of the r gradients (the factors t_k, -t_k, 2 t_k, -2 t_k are applied once, after
// every row is summed).
struct LaneSums {
  Vec t0 = {}, t1 = {}, t2 = {}, t3 = {};
  Vec low0 = {}, high1 = {}, low2 = {}, high3 = {};
};

// The backward row by row: dx of each row, and the t and r gradients summed per thread (as
// Vecs, folded into doubles every few rows), added up in thread order at the end: no atomics,
// and the same sums for the same rows on the same thread count.
class MultiMaxRowsBackward {
 public:
  MultiMaxRowsBackward(const MultiMaxParams& params, int64_t heads, int threads);
  // One row of head h, on thread `thread` (< threads): writes dx[0, cols) (dx may be g; with
  // `stream` its full chunks go past the caches) and adds the row's terms to that thread's sums.
  void row(int thread, int64_t h, const float* x, const float* p, const float* g, int64_t active,
           int64_t cols, float* dx, bool stream);
  // A causal [T, T] matrix of head h, the fused attention's: row i's x at kept + kept_at[i]
  // (multimax_forward_row_keeping's layout), p and g [T, T] dense. Writes each row's dx (dx may
  // be g) up to the end of its diagonal's chunk and leaves the rest, which the fused products
  // never read. The same dx and sums, in the same order, as T calls of row(); one call keeps
  // the sums and the constants in registers from row to row.
  void matrix(int thread, int64_t h, const float* kept, const int64_t* kept_at, const float* p,
              const float* g, int64_t T, float* dx);
  // Each thread, after its last row: folds what its lanes still hold.
  void thread_done(int thread);
  // dt and dr (t's shape, zero-initialised) from every thread's sums.
  void gradients(Tensor& dt, Tensor& dr) const;

 private:
  // One head's sums on one thread, on cache lines of its own (threads write theirs every row).
  struct alignas(64) HeadSums {
    LaneSums lanes;
    double totals[8] = {};
    int rows_in_lanes = 0;  // rows the lanes hold since the last fold into totals
  };
  std::vector<MultiMaxCoeffs> coeffs_;
  int order_;
  int64_t heads_;
  std::vector<HeadSums> sums_;  // [thread][head]
};

}  // namespace mmx::kernels
