/// \file
/// Over-smoothing: how alike the token representations of one sequence have become after a
/// block, as the mean pairwise cosine similarity of its tokens. 1 means every token points the
/// same way (the sequence has been smoothed into one vector), 0 that they are orthogonal on
/// average. The MultiMax paper argues that SoftMax's residual mass on irrelevant tokens smooths
/// tokens together layer after layer; this is the figure that would show it.
#pragma once

#include <vector>

#include "engine/tensor.hpp"
#include "nn/layers/attention_map.hpp"

namespace mmx::nn {

/// tokens [B, T, d]; `real` (B * T flags, row-major; empty: every token is real) leaves padded
/// positions out. Per sequence with at least two real tokens, the mean over its pairs i < j of
/// cos(x_i, x_j); then the mean over those sequences. A zero vector has no direction and counts
/// as cosine 0 with every other token. NaN when no sequence has two real tokens.
double mean_pairwise_cosine(const Tensor& tokens, const std::vector<bool>& real = {});

/// The measure on the output of the block `map` was captured in (map.block_output), its padded
/// positions -- the queries whose every mask entry is -inf -- left out. NaN when the map holds no
/// block output.
double token_similarity(const AttentionMap& map);

}  // namespace mmx::nn
