/// \file
/// AttentionMap: what one attention layer looked at, captured during a forward pass so that the
/// measures (sparsity S, multi-modality M) and the pictures can read it afterwards.
#pragma once

#include "engine/tensor.hpp"
#include "nn/layers/multimax_parameters.hpp"
#include "nn/layers/normalizers.hpp"

namespace mmx::nn {

/// One layer's scores q k^T / sqrt(dh) and the normalizer's weights, both [B, H, T, S] and
/// detached, with what hides the entries no query may use. In a causal layer the scores above
/// the diagonal are 0 (never computed; `causal` hides them).
struct AttentionMap {
  /// q k^T / sqrt(dh), [B, H, T, S]
  Tensor scores;
  /// the normalizer's weights, [B, H, T, S]
  Tensor probabilities;
  /// additive (0 or -inf), broadcastable to [B, H, T, S]: padded keys, and whole rows of padded
  /// queries, which the measures then skip; undefined when every entry is real
  Tensor mask;
  /// query i sees keys [0, i] only
  bool causal = false;
  /// what the normalizer's softmax exponentiates, [B, H, T, S]: the scores for SoftMax,
  /// sigma(scores) for MultiMax, the scores at or above the row mean (-inf below) for EvSoftMax;
  /// undefined for SparseMax and EntMax-1.5, whose weights need no exponential. The
  /// measures take log phi from it in double, exact where phi underflows float32 (e^-87.3).
  Tensor logits;
  /// MultiMax's t, r (detached, sharing the parameters' storage) and order; t and r undefined
  /// for the other normalizers
  MultiMaxParams multimax;
  /// the output of the block this attention belongs to, [B, T, d], detached: the token
  /// representations the over-smoothing measure reads (nn/metrics/token_similarity.hpp);
  /// undefined for cross-attention, whose block's output the decoder self-attention's map holds
  Tensor block_output;
};

/// The map of one attention call: scores and weights detached, and the logits of `kind`
/// (`multimax`: its parameters when kind is MultiMax, else null), with those parameters.
AttentionMap capture_attention_map(const Tensor& scores, const Tensor& probabilities,
                                   const Tensor& mask, bool causal, AttentionKind kind,
                                   const MultiMaxParameters* multimax);

}  // namespace mmx::nn
