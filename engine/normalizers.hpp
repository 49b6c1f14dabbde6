/// \file
/// MultiMax and the normalizers it is compared with (SoftMax with temperature, SparseMax,
/// EntMax-1.5, EvSoftMax) as differentiable ops over the last axis, all taking the same masks.
#pragma once

#include "engine/multimax_params.hpp"
#include "engine/tensor.hpp"

namespace mmx {

// Every op here maps each row of x's last axis to a distribution, and takes:
//   mask    additive, 0 or -inf, broadcastable to x; may be undefined. It never gets a gradient.
//   causal  skips column j > row i of the last two axes (i indexes axis -2, the queries)
//           without materialising a mask.
// A row whose every column is masked gives zeros and a zero gradient. Masked columns get
// exactly 0, and appending masked columns to a row leaves its result bit for bit unchanged.

///@{
/// MultiMax (Zhou, Fritz, Keuper, ICML 2024):
///   sigma(x) = x + t0 relu(r0 - x) + t1 relu(x - r1) + t2 relu(r2 - x)^2 + t3 relu(x - r3)^2
///   multimax(x) = softmax(sigma(x) + mask)
/// (t, r, order) come as one MultiMaxParams (engine/multimax_params.hpp); order 1's unused
/// entries get zero gradient. At a kink (x exactly at r_k) the derivative is the one-sided 0, as
/// relu'(0) = 0. `mask` is 0 / -inf, broadcastable to x.
Tensor multimax(const Tensor& x, const MultiMaxParams& params, const Tensor& mask = Tensor(),
                bool causal = false);
///@}

/// Causal self-attention fused per (batch, head) matrix. qkv [B, T, 3 D] is the qkv
/// projection's output: q, k, v its thirds, each split into `heads` heads of D / heads. Returns
/// [B, T, D], the heads' normalize(scale tril(q k^T)) v side by side, with the normalizer
/// MultiMax with `multimax`'s (t, r) or, when it is null, SoftMax. The same values and gradients
/// as causal_scores, then multimax or softmax_temperature (causal), then causal_weighted_sum on
/// the heads, without their score-sized intermediates (a matrix's scores stay in the thread's
/// cache between the three steps) or copies of the heads.
Tensor causal_self_attention(const Tensor& qkv, int64_t heads, float scale,
                             const MultiMaxParams* multimax = nullptr);

/// softmax(x / temperature + mask); temperature > 0.
Tensor softmax_temperature(const Tensor& x, float temperature, const Tensor& mask = Tensor(),
                           bool causal = false);

/// SparseMax (Martins & Astudillo 2016): Euclidean projection of x + mask onto the simplex.
Tensor sparsemax(const Tensor& x, const Tensor& mask = Tensor(), bool causal = false);

/// EntMax-1.5 (Peters, Niculae & Martins 2019): relu((x + mask)/2 - tau)^2, summing to 1.
Tensor entmax15(const Tensor& x, const Tensor& mask = Tensor(), bool causal = false);

/// EvSoftMax (Chen et al. 2021): softmax over the entries at or above the mean of the row's
/// unmasked scores; the entries below get weight 0, or `eps` (relative) when training so that
/// every entry keeps a gradient and a finite log-likelihood.
Tensor evsoftmax(const Tensor& x, const Tensor& mask = Tensor(), bool causal = false,
                 bool training = false, float eps = 1e-6f);
/// What EvSoftMax's softmax exponentiates when not training: x + mask where it is at or above
/// the row mean, -inf below, so that evsoftmax(x, mask, causal) = softmax of it. Read by the
/// measures, which take log phi from it in double: a kept weight below float32's e^-87.3 keeps
/// its value. No gradient.
Tensor evsoftmax_logits(const Tensor& x, const Tensor& mask = Tensor(), bool causal = false);

}  // namespace mmx
