/// \file
/// The MultiMax paper's measures of a normalizer's output (multi-modality M, sparsity S; its
/// Definitions 3.2-3.3), support size and entropy, per row, plus their averages over attention.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.hpp"

namespace mmx {

/// Each function reads rows of the last axis: x the scores, phi = f(x) the distribution, same
/// shape. It returns one value per row, shaped like x without its last axis (0-d for a 1-d x,
/// so `.item()` reads it). A score of -inf is a masked column and counts in no measure.
///
/// multi-modality  M = 1 - (1/N) sum over n with eps < x_n < max(x) of (max(phi) - phi_n)
/// sparsity        S = (1/L) sum over l with x_l < eps of exp((s - phi_l)/s - 1)
/// Both lie in [0, 1]; higher is more multi-modal / sparser. A row with no term (N = 0 or L = 0)
/// has no value: NaN, which attention_measures skips.
Tensor multimodality(const Tensor& x, const Tensor& phi, float eps);
/// `reference` is s, one per row (shaped like the result) or one for all (0-d / [1]); undefined:
/// the smallest SoftMax(t=1) probability of the same row. s is floored at the smallest normal
/// double, so scores so spread that it underflows still give exp(-phi/s) -> 1 for phi = 0.
Tensor sparsity(const Tensor& x, const Tensor& phi, float eps, const Tensor& reference = Tensor());
/// The smallest SoftMax(t=1) probability of each row: the default s.
Tensor softmax_min_probability(const Tensor& x);
/// How many entries carry non-zero weight.
Tensor support_size(const Tensor& phi);
/// -sum phi log phi in nats, with 0 log 0 = 0.
Tensor entropy(const Tensor& phi);

/// The four measures of one row x (-inf: masked) from its log-probabilities log phi, -inf for a
/// weight of exactly 0, all in double with the default s. Weights that float32 flushes to 0
/// (below e^-87.3: SoftMax of scores more than 87 apart) keep their value here, so S does not
/// jump to 1 for them; the functions above read phi itself.
struct RowMeasures {
  double multimodality = 0;  ///< M, NaN when it has no term
  double sparsity = 0;  ///< S with s = the row's smallest SoftMax(t=1) probability; NaN: no term
  int64_t support = 0;  ///< entries with log phi > -inf
  double entropy = 0;   ///< -sum phi log phi, nats
};
/// log softmax(y) of one row in double, -inf entries (masked) giving -inf: (y - max) -
/// log1p(sum over the others of exp(y - max)), so the largest entry's log-probability stays
/// exact, log(1 + e^-100) = 3.7e-44 and not 0, and no entry underflows.
std::vector<double> log_softmax_row(const std::vector<float>& y);
/// The measures of one row from x and log phi (same length).
RowMeasures measure_row(const std::vector<float>& x, const std::vector<double>& log_phi, float eps);

/// Averages over every row of attention probabilities probs = f(scores + mask), shape
/// [.., T, S], with the mask (0 / -inf, broadcastable, may be undefined) and causal flag the
/// normalizer got. Each row's eps is the mean of its unmasked scores ("relevant" = above the
/// row's average score); s is the row's smallest SoftMax(t=1) probability. Rows where S or M
/// has no term are left out of that average; the counts say how many rows each used.
struct AttentionMeasures {
  double sparsity = 0;       ///< mean S over rows with an entry below eps
  double multimodality = 0;  ///< mean M over rows with an entry in (eps, max)
  double support = 0;        ///< mean number of non-zero weights per row
  double entropy = 0;        ///< mean entropy per row, nats
  int64_t rows = 0;          ///< rows with at least one unmasked column
  /// rows that entered the sparsity mean
  int64_t sparsity_rows = 0;
  /// rows that entered the multi-modality mean
  int64_t multimodality_rows = 0;
};
/// The measures of weights `probs` computed from `scores` ([..., T, S]), masked rows left out.
/// `logits` (same shape, may be undefined): what a SoftMax-like normalizer exponentiated, probs =
/// softmax(logits + mask); log phi then comes from it in double, so a weight that float32
/// flushed to 0 keeps its value in S, M and the entropy. Undefined: log of probs.
AttentionMeasures attention_measures(const Tensor& scores, const Tensor& probs,
                                     const Tensor& mask = Tensor(), bool causal = false,
                                     const Tensor& logits = Tensor());

}  // namespace mmx
