#include "engine/kernels/causal_attention.hpp"

#include <omp.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "engine/error.hpp"
#include "engine/kernels/causal_products.hpp"
#include "engine/kernels/kept_scores.hpp"
#include "engine/kernels/masked_softmax.hpp"
#include "engine/kernels/multimax.hpp"
#include "engine/parallel_region.hpp"

namespace mmx::kernels {

namespace {

void check_operands(const char* op, const Tensor& q, const Tensor& k, const Tensor& v) {
  MMX_CHECK(q.dim() >= 2 && k.shape() == q.shape() && v.shape() == q.shape(), op,
            ": need q, k, v [..., T, d] of one shape, got ", to_string(q.shape()), ", ",
            to_string(k.shape()), " and ", to_string(v.shape()));
}

// The heads the normalizer's parameters are for (1 for SoftMax or per-layer MultiMax).
int64_t normalizer_heads(const char* op, const Tensor& q, const MultiMaxParams* multimax) {
  return multimax ? multimax_heads(op, q, *multimax) : 1;
}

// [..., T, T] for q [..., T, d].
Shape square_shape(const Tensor& q) {
  Shape s(q.shape().begin(), q.shape().end() - 1);
  s.push_back(q.size(-2));
  return s;
}

// v at least n long: grown, never shrunk, for the scratch each thread keeps across calls.
void grow_to(std::vector<float>& v, int64_t n) {
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
}

// `into` when defined (checked to have `shape`), else a new dense tensor.
Tensor destination(const char* op, const Tensor& into, const Shape& shape) {
  if (!into.defined()) return Tensor::empty(shape);
  MMX_CHECK(into.shape() == shape, op, ": an output of shape ", to_string(shape),
            " cannot go into ", to_string(into.shape()));
  return into;
}

// Matrix m's head: matrices run over the batch axes with the last (the heads, axis -3) fastest.
int64_t head_of_matrix(int64_t m, int64_t heads) {
  return m % heads;
}

// [..., n] for q [..., T, d]: n floats per matrix.
Shape per_matrix_shape(const Tensor& q, int64_t n) {
  Shape s(q.shape().begin(), q.shape().end() - 2);
  s.push_back(n);
  return s;
}

// What a backward needs of `saved`: the scores and norms a fused forward kept.
void check_kept(const char* op, const CausalAttention& saved, const Shape& square) {
  MMX_CHECK(saved.scores.defined() && saved.norms.defined(), op,
            ": the forward kept nothing for a backward (run causal_attention_forward with "
            "for_backward)");
  const Shape norms = with_last(square, 2);
  MMX_CHECK(saved.norms.shape() == norms, op, ": need norms ", to_string(norms), ", got ",
            to_string(saved.norms.shape()));
}

// Matrix m's weights again from what the forward kept (kept_scores.hpp), into p [T, T].
void recompute_matrix(const CausalAttention& saved, int64_t m, const std::vector<int64_t>& kept_at,
                      int64_t T, const MultiMaxParams* n, const std::vector<MultiMaxCoeffs>& coeffs,
                      int64_t heads, bool zero_above, float* p) {
  const float* kept = saved.scores.data() + m * kept_at.back();
  const float* norms = saved.norms.data() + 2 * m * T;
  if (n)
    multimax_recompute_matrix(kept, kept_at.data(), norms, T,
                              coeffs[static_cast<size_t>(head_of_matrix(m, heads))], n->order,
                              zero_above, p);
  else
    recompute_weights(kept, kept_at.data(), norms, T, NoModulation{}, zero_above, p);
}

}  // namespace

CausalAttention causal_attention_forward(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in,
                                         float scale, const MultiMaxParams* n, Tensor y_into,
                                         bool for_backward, MatmulPrecision precision) {
  const char* op = "causal_attention";
  check_operands(op, q_in, k_in, v_in);
  const int64_t heads = normalizer_heads(op, q_in, n);
  Tensor q_keep, k_keep, v_keep;
  const std::vector<Matrix> q = matrices(q_in, q_keep), k = matrices(k_in, k_keep),
                            v = matrices(v_in, v_keep);
  const int64_t T = q_in.size(-2), d = q_in.size(-1), count = static_cast<int64_t>(q.size());
  const bool multimax = n != nullptr;
  const std::vector<int64_t> kept_at = kept_row_offsets(T);
  const int64_t kept_per_matrix = kept_at.back();
  CausalAttention out{destination(op, y_into, q_in.shape()), Tensor(), Tensor(), Tensor()};
  if (for_backward) {
    out.scores = Tensor::empty(per_matrix_shape(q_in, kept_per_matrix));
    out.norms = Tensor::empty(with_last(square_shape(q_in), 2));
  }
  if (count * T == 0) return out;
  const std::vector<OutMatrix> y = output_matrices(out.y);
  const std::vector<MultiMaxCoeffs> coeffs =
      multimax ? multimax_coeffs(*n) : std::vector<MultiMaxCoeffs>{};
  parallel_region(count * T * T * d >= kCausalParallelMinWork, [&] {
    // Per thread, kept from call to call (grown, never shrunk): zeroing fresh ones took ~1% of
    // a small step's samples, and every value is written before it is read.
    thread_local ProductScratch pack;         // the products' packed operands
    thread_local std::vector<float> scores;   // one matrix, in this thread's cache
    thread_local std::vector<float> weights;  // likewise
    grow_to(scores, T * T);
    grow_to(weights, T * T);
#pragma omp for schedule(static)
    for (int64_t m = 0; m < count; ++m) {
      const size_t at = static_cast<size_t>(m);
      float* s = scores.data();
      causal_scores_matrix(q[at], k[at], T, d, scale, AboveDiagonal::Unset, precision, pack, s);
      float* pm = weights.data();
      for (int64_t i = 0; i < T; ++i) {  // row i sees keys [0, i]
        const float* si = s + i * T;
        float* pi = pm + i * T;
        if (for_backward) {
          float* kept = out.scores.data() + m * kept_per_matrix + kept_at[static_cast<size_t>(i)];
          const RowNormalization norm =
              multimax ? multimax_forward_row_keeping(
                             si, i + 1, T, coeffs[static_cast<size_t>(head_of_matrix(m, heads))],
                             n->order, pi, kept)
                       : keep_row(si, i + 1, T, NoModulation{}, pi, kept);
          float* norm_at = out.norms.data() + 2 * (m * T + i);
          norm_at[0] = norm.top;
          norm_at[1] = norm.inv;
        } else if (multimax) {
          multimax_forward_row(si, nullptr, i + 1, T,
                               coeffs[static_cast<size_t>(head_of_matrix(m, heads))], n->order, pi);
        } else {
          softmax_temperature_row(si, nullptr, i + 1, T, 1.0f, pi);
        }
      }
      causal_weighted_sum_matrix({pm, T}, v[at], T, d, 1.0f, /*transposed=*/false, precision, pack,
                                 y[at]);
    }
    if (for_backward) streaming_stores_done();
  });
  return out;
}

Tensor causal_attention_weights(const CausalAttention& saved, const MultiMaxParams* n) {
  const char* op = "causal_attention_weights";
  // [..., T, T] from the norms' [..., T, 2]; check_kept names what is missing.
  const Shape square =
      saved.norms.defined() ? with_last(saved.norms.shape(), saved.norms.size(-2)) : Shape{};
  check_kept(op, saved, square);
  const int64_t T = square.back();
  Tensor p = Tensor::empty(square);
  const int64_t heads = normalizer_heads(op, p, n);
  const std::vector<MultiMaxCoeffs> coeffs =
      n ? multimax_coeffs(*n) : std::vector<MultiMaxCoeffs>{};
  const std::vector<int64_t> kept_at = kept_row_offsets(T);
  for (int64_t m = 0; m * T * T < p.numel(); ++m)
    recompute_matrix(saved, m, kept_at, T, n, coeffs, heads, /*zero_above=*/true,
                     p.data() + m * T * T);
  return p;
}

CausalAttentionGradients causal_attention_backward(const Tensor& q_in, const Tensor& k_in,
                                                   const Tensor& v_in, const CausalAttention& saved,
                                                   const Tensor& gy_in, float scale,
                                                   const MultiMaxParams* n,
                                                   CausalAttentionGradients into,
                                                   MatmulPrecision precision) {
  const char* op = "causal_attention backward";
  check_operands(op, q_in, k_in, v_in);
  MMX_CHECK(gy_in.shape() == q_in.shape(), op, ": need gy ", to_string(q_in.shape()), ", got ",
            to_string(gy_in.shape()));
  const bool multimax = n != nullptr;
  check_kept(op, saved, square_shape(q_in));
  const int64_t heads = normalizer_heads(op, q_in, n);
  Tensor q_keep, k_keep, v_keep, gy_keep;
  const std::vector<Matrix> q = matrices(q_in, q_keep), k = matrices(k_in, k_keep),
                            v = matrices(v_in, v_keep), gy = matrices(gy_in, gy_keep);
  const int64_t T = q_in.size(-2), d = q_in.size(-1), count = static_cast<int64_t>(q.size());
  CausalAttentionGradients grads{destination(op, into.dq, q_in.shape()),
                                 destination(op, into.dk, q_in.shape()),
                                 destination(op, into.dv, q_in.shape()), Tensor(), Tensor()};
  if (multimax) {
    grads.dt = Tensor::zeros(n->t.shape());
    grads.dr = Tensor::zeros(n->r.shape());
  }
  if (count * T == 0) return grads;
  const std::vector<OutMatrix> dq = output_matrices(grads.dq), dk = output_matrices(grads.dk),
                               dv = output_matrices(grads.dv);
  const bool threaded = count * T * T * d >= kCausalParallelMinWork;
  const std::vector<int64_t> kept_at = kept_row_offsets(T);
  const std::vector<MultiMaxCoeffs> coeffs =
      multimax ? multimax_coeffs(*n) : std::vector<MultiMaxCoeffs>{};
  std::optional<MultiMaxRowsBackward> rows;
  if (multimax) rows.emplace(*n, heads, threaded ? omp_get_max_threads() : 1);
  parallel_region(threaded, [&] {
    const int thread = omp_get_thread_num();
    thread_local ProductScratch pack;         // as in the forward
    thread_local std::vector<float> local;    // dL/dp, then dL/dscores in place
    thread_local std::vector<float> weights;  // p again
    grow_to(local, T * T);
    grow_to(weights, T * T);
#pragma omp for schedule(static)
    for (int64_t m = 0; m < count; ++m) {
      const size_t at = static_cast<size_t>(m);
      const int64_t h = head_of_matrix(m, heads);
      recompute_matrix(saved, m, kept_at, T, n, coeffs, heads, /*zero_above=*/false,
                       weights.data());
      const Matrix pm{weights.data(), T};
      float* g = local.data();
      // dp = tril(gy v^T)
      causal_scores_matrix(gy[at], v[at], T, d, 1.0f, AboveDiagonal::Unset, precision, pack, g);
      // dv = tril(p)^T gy
      causal_weighted_sum_matrix(pm, gy[at], T, d, 1.0f, /*transposed=*/true, precision, pack,
                                 dv[at]);
      // dscores over dp, in place
      if (multimax)
        rows->matrix(thread, h, saved.scores.data() + m * kept_at.back(), kept_at.data(),
                     weights.data(), g, T, g);
      else
        for (int64_t i = 0; i < T; ++i)
          softmax_backward_row(pm.data + i * pm.row_stride, g + i * T, i + 1, 1.0f, g + i * T);
      const Matrix ds{g, T};
      // dq = scale tril(ds) k, dk = scale tril(ds)^T q
      causal_weighted_sum_matrix(ds, k[at], T, d, scale, /*transposed=*/false, precision, pack,
                                 dq[at]);
      causal_weighted_sum_matrix(ds, q[at], T, d, scale, /*transposed=*/true, precision, pack,
                                 dk[at]);
    }
    if (multimax) rows->thread_done(thread);
  });
  if (multimax) rows->gradients(grads.dt, grads.dr);
  return grads;
}

// ---------------------------------------------- naive references: the unfused chain, naive

namespace {
Tensor normalize_naive(const Tensor& scores, const MultiMaxParams* n) {
  return n ? multimax_forward_naive(scores, *n, Tensor(), /*causal=*/true)
           : softmax_temperature_forward_naive(scores, 1.0f, Tensor(), /*causal=*/true);
}
}  // namespace

CausalAttention causal_attention_forward_naive(const Tensor& q, const Tensor& k, const Tensor& v,
                                               float scale, const MultiMaxParams* n,
                                               MatmulPrecision precision) {
  check_operands("causal_attention", q, k, v);
  normalizer_heads("causal_attention", q, n);
  const Tensor scores = causal_scores_forward_naive(q, k, scale, precision);
  const Tensor p = normalize_naive(scores, n);
  return {causal_weighted_sum_forward_naive(p, v, 1.0f, precision), p, Tensor(), Tensor()};
}

CausalAttentionGradients causal_attention_backward_naive(
    const Tensor& q, const Tensor& k, const Tensor& v, const CausalAttention& saved,
    const Tensor& gy, float scale, const MultiMaxParams* n, MatmulPrecision precision) {
  check_operands("causal_attention backward", q, k, v);
  const Tensor dp = causal_scores_forward_naive(gy, v, 1.0f, precision);
  CausalAttentionGradients grads;
  grads.dv = causal_transposed_sum_forward_naive(saved.p, gy, 1.0f, precision);
  Tensor ds;
  if (n) {
    // not what the fast one kept
    const Tensor scores = causal_scores_forward_naive(q, k, scale, precision);
    MultiMaxGradients g = multimax_backward_naive(scores, saved.p, dp, *n);
    ds = g.dx;
    grads.dt = g.dt;
    grads.dr = g.dr;
  } else {
    ds = softmax_rows_backward_naive(saved.p, dp, 1.0f);
  }
  grads.dq = causal_weighted_sum_forward_naive(ds, k, scale, precision);
  grads.dk = causal_transposed_sum_forward_naive(ds, q, scale, precision);
  return grads;
}

}  // namespace mmx::kernels
