// Fused causal self-attention: y = normalize(scale tril(q k^T)) v, one (batch, head) matrix at a
// time, so that a matrix's [T, T] scores go from the product to the normalizer to the weighted
// sum while they sit in the thread's L2, instead of three trips through memory for the whole
// batch. The backward is fused the same way. The normalizer is SoftMax or MultiMax; the steps
// are the per-matrix products of causal_products.hpp and the per-row normalizers of
// masked_softmax.hpp and multimax.hpp, so the fused kernels compute bit for bit what the unfused
// chain computes. The naive reference is the chain of the three naive kernels.
#pragma once

#include "engine/multimax_params.hpp"
#include "engine/precision.hpp"
#include "engine/tensor.hpp"

namespace mmx::kernels {

// The normalizer applied to each row of scores: MultiMax with `multimax`'s (t, r, order) (per
// layer or per head of axis -3, as multimax_forward's) or, where `multimax` is null, SoftMax.

struct CausalAttention {
  Tensor y;  // [..., T, d] the attention output
  // What the backward reads, kept only when the forward was asked to (not under NoGrad):
  Tensor p;       // the naive forward only: [..., T, T] the weights, zero above the diagonal
  Tensor scores;  // scale tril(q k^T), each matrix's lower triangle by rows, each row padded with
                  // zeros to whole chunks of 16 floats ([..., sum over i < T of
                  // 16 ceil((i + 1) / 16)])
  Tensor norms;   // [..., T, 2] each row's RowNormalization (top, inv). With `scores` they give
                  // the weights again, bit for bit (kept_scores.hpp): the backward recomputes
                  // them rather than keep a [T, T] matrix per head, twice the scores' triangle.
};

// q, k, v [..., T, d] of one shape (any strides whose last axis is adjacent). y goes into
// `y_into` when given: q's shape, its last axis adjacent, e.g. the heads [B, H, T, dh] of a
// [B, T, H dh] buffer, so that no transpose copy follows. Else y is a new dense tensor.
// Without `for_backward` (evaluation), the weights live only in each thread's cache and nothing
// is kept. `precision` is the products' (causal_products.hpp); the normalizer runs in fp32.
CausalAttention causal_attention_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                                         float scale, const MultiMaxParams* multimax,
                                         Tensor y_into = Tensor(), bool for_backward = true,
                                         MatmulPrecision precision = MatmulPrecision::fp32);
CausalAttention causal_attention_forward_naive(const Tensor& q, const Tensor& k, const Tensor& v,
                                               float scale, const MultiMaxParams* multimax,
                                               MatmulPrecision precision = MatmulPrecision::fp32);

// The weights [..., T, T] of a fused forward that kept its scores for the backward, computed
// again from its scores and norms.
Tensor causal_attention_weights(const CausalAttention& saved, const MultiMaxParams* multimax);

struct CausalAttentionGradients {
  Tensor dq, dk, dv;  // q's shape: new dense tensors, or the `into` views they were written to
  Tensor dt, dr;      // t's shape: MultiMax only
};

// From the inputs, what the forward kept (for_backward), and gy = dL/dy. dq, dk, dv go into
// `into`'s when those are defined (as y_into: e.g. the q, k, v windows of one [B, T, 3 H dh]
// gradient).
CausalAttentionGradients causal_attention_backward(
    const Tensor& q, const Tensor& k, const Tensor& v, const CausalAttention& saved,
    const Tensor& gy, float scale, const MultiMaxParams* multimax,
    CausalAttentionGradients into = {}, MatmulPrecision precision = MatmulPrecision::fp32);
CausalAttentionGradients causal_attention_backward_naive(
    const Tensor& q, const Tensor& k, const Tensor& v, const CausalAttention& saved,
    const Tensor& gy, float scale, const MultiMaxParams* multimax,
    MatmulPrecision precision = MatmulPrecision::fp32);

}  // namespace mmx::kernels
