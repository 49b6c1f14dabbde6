// Masked softmax over the last axis with a temperature (the SoftMax baseline of the MultiMax
// paper), and the per-row softmax steps that MultiMax and EvSoftMax reuse. Fast + naive each.
#pragma once

#include <cstdint>

#include "engine/kernels/vec16.hpp"
#include "engine/tensor.hpp"

namespace mmx::kernels {

// p = softmax(x / temperature + mask) over the last axis; a fully masked row is all zeros.
Tensor softmax_temperature_forward(const Tensor& x, float temperature, const Tensor& mask,
                                   bool causal);
Tensor softmax_temperature_forward_naive(const Tensor& x, float temperature, const Tensor& mask,
                                         bool causal);
// dx = p * (g - sum(p * g)) * scale, per row (scale = 1 / temperature). Any distribution of the
// form p = w * exp(z) / sum(w * exp(z)) with w locally constant has this backward. Given the
// forward's mask and causal flag, it skips the columns the forward wrote as 0 (dx is 0 there).
// dx goes into `into` when given (dense, p's shape; it may be g itself), else a new tensor.
Tensor softmax_rows_backward(const Tensor& p, const Tensor& g, float scale,
                             const Tensor& mask = Tensor(), bool causal = false,
                             Tensor into = Tensor());
Tensor softmax_rows_backward_naive(const Tensor& p, const Tensor& g, float scale);

// --- row steps shared by the fused kernels (the row is hot in L1 when these run) ---
// What softmax_row_in_place did to a row: p = vec_exp(s - top) * inv. With the row's scores, it
// gives the row's p again, bit for bit, where keeping p would cost more memory than the scores.
struct RowNormalization {
  float top;  // -inf: the row was all masked, p all zeros
  float inv;  // 1 / the sum of the exps
};
// s[0, active) holds scores whose maximum is `top`; turns them into probabilities in place and
// zeroes s[active, cols). A row with top == -inf (all masked) becomes all zeros.
RowNormalization softmax_row_in_place(float* s, int64_t active, int64_t cols, float top);
// p[0, cols) = softmax(x / T + mask) of one row (inv_t = 1 / T; mask may be nullptr), zero
// from `active` on.
void softmax_temperature_row(const float* x, const float* mask, int64_t active, int64_t cols,
                             float inv_t, float* p);
// dx[0, active) = p * (g - sum(p * g)) * scale over one row's active columns. dx may be g.
void softmax_backward_row(const float* p, const float* g, int64_t active, float scale, float* dx);
// sum over j < n of v[j]
float sum_row(const float* v, int64_t n);
// max over j < n of v[j]; -inf for n == 0
float max_row(const float* v, int64_t n);
// sum over j < n of p[j] * g[j]. Inline: a call from a row loop that keeps Vecs in registers
// (MultiMax's backward sums) spills and reloads all of them around it, every row.
inline float dot_row(const float* p, const float* g, int64_t n) {
  Vec even = {}, odd = {};  // as sum_row's (masked_softmax.cpp)
  int64_t j = 0;
  for (; j + 2 * kVecLanes <= n; j += 2 * kVecLanes) {
    even += load(p + j) * load(g + j);
    odd += load(p + j + kVecLanes) * load(g + j + kVecLanes);
  }
  if (j + kVecLanes <= n) {
    even += load(p + j) * load(g + j);
    j += kVecLanes;
  }
  if (j < n) odd += load_first(p + j, n - j) * load_first(g + j, n - j);
  return horizontal_sum(even + odd);
}

}  // namespace mmx::kernels
