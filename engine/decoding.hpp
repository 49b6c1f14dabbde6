/// \file
/// Decoding one token at a time: the inference steps of a pre-LN transformer on a single row,
/// each writing into a buffer the caller made once and reuses for every token. No tape, no
/// tensor made, no primitive call: a one-row product through oneDNN repacked its weight on every
/// call, and the per-op cost of allocating and dispatching was about a third of a token's time.
/// Every tensor passed here must be dense (contiguous); the functions check the shapes and
/// throw an mmx::Error naming the step and the shapes otherwise. Nothing is recorded for
/// autograd: use these only for inference.
#pragma once

#include <cstdint>

#include "engine/multimax_params.hpp"
#include "engine/tensor.hpp"

namespace mmx {

/// y = weight x + bias for one row: x [in], weight [out, in] (a Linear's, read in place), bias
/// [out] or undefined, y [out]. With `accumulate`, y += weight x + bias (a residual add).
void linear_row(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor& y,
                bool accumulate = false);

/// A layer norm's parameters, for normed_linear_row.
struct RowLayerNorm {
  Tensor weight;  ///< [in]
  Tensor bias;    ///< [in]
  float eps;      ///< > 0, added to the variance
};

/// y = weight layer_norm(x) + bias for one row: a pre-LN block's product with the layer norm
/// before it (x [in], the rest as linear_row), no buffer between them. With `gelu`, y = GELU of
/// that (exact, the same bits as gelu(x, GeluForm::Exact)): an MLP's hidden layer. y must not
/// be x.
void normed_linear_row(const Tensor& x, const RowLayerNorm& norm, const Tensor& weight,
                       const Tensor& bias, Tensor& y, bool gelu = false);

/// y = sigma(x), MultiMax's modulation without the softmax (per-layer parameters [4]), as
/// MultiMax on a GPT's output logits applies it; y may be x.
void multimax_modulate_row(const Tensor& x, const MultiMaxParams& params, Tensor& y);

/// One new position of causal self-attention against a KV cache.
struct CachedAttentionStep {
  /// [3 d]: the fused projection's q, k, v for the new position, heads side by side in each
  Tensor qkv;
  /// [heads, capacity, dh]: this layer's cached keys (the new one is written at `position`)
  Tensor keys;
  /// [heads, capacity, dh]: the cached values, likewise
  Tensor values;
  /// the new position; the cache holds [0, position)
  int64_t position = 0;
  /// MultiMax's parameters (per layer [4] or per head [heads, 4]); null for SoftMax
  const MultiMaxParams* multimax = nullptr;
  /// [2 heads capacity] floats of working space
  Tensor scratch;
  /// [d]: the heads side by side, the output projection's input
  Tensor y;
};

/// Writes the new key and value into the cache, then attends from the new query to positions
/// [0, position] with scores q k / sqrt(dh), normalized by SoftMax or MultiMax exactly as the
/// full forward does, into `step.y`.
void cached_attention_row(CachedAttentionStep& step);

/// One query attending to fixed keys and values: a decoder's cross-attention to the encoder's
/// output, whose keys and values are projected once per source.
struct MemoryAttentionStep {
  /// [d]: the query, heads side by side
  Tensor q;
  /// [heads, length, dh]: the source's keys
  Tensor keys;
  /// [heads, length, dh]: the source's values
  Tensor values;
  /// [length], additive (0, or -inf at the source's padding); undefined when nothing is masked
  Tensor key_mask;
  /// MultiMax's parameters (per layer [4] or per head [heads, 4]); null for SoftMax
  const MultiMaxParams* multimax = nullptr;
  /// at least [2 heads length] floats of working space
  Tensor scratch;
  /// [d]: the heads side by side, the output projection's input
  Tensor y;
};

/// Attends from `step.q` to every key, the masked ones excluded, with scores q k / sqrt(dh)
/// normalized by SoftMax or MultiMax (the mask added after MultiMax's sigma, as the full forward
/// does), into `step.y`.
void memory_attention_row(MemoryAttentionStep& step);

}  // namespace mmx
