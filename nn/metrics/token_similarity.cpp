#include "nn/metrics/token_similarity.hpp"

#include <cmath>

#include "engine/error.hpp"

namespace mmx::nn {

double mean_pairwise_cosine(const Tensor& tokens, const std::vector<bool>& real) {
  MMX_CHECK(tokens.dim() == 3, "mean_pairwise_cosine: tokens must be [B, T, d], got ",
            to_string(tokens.shape()));
  const int64_t batch = tokens.size(0), length = tokens.size(1), width = tokens.size(2);
  MMX_CHECK(real.empty() || std::ssize(real) == batch * length,
            "mean_pairwise_cosine: ", real.size(), " real-token flags for ", batch * length,
            " tokens");
  const std::vector<float> x = tokens.contiguous().to_vector();
  double total = 0;
  int64_t sequences = 0;
  for (int64_t b = 0; b < batch; ++b) {
    // With unit vectors u_i, sum over pairs i < j of u_i . u_j = (|sum u|^2 - sum |u|^2) / 2:
    // one pass over the tokens instead of one per pair.
    std::vector<double> sum(static_cast<size_t>(width), 0.0);
    double self = 0;
    int64_t count = 0;
    for (int64_t t = 0; t < length; ++t) {
      if (!real.empty() && !real[static_cast<size_t>(b * length + t)]) continue;
      const float* v = x.data() + (b * length + t) * width;
      double norm = 0;
      for (int64_t k = 0; k < width; ++k) norm += double{v[k]} * v[k];
      norm = std::sqrt(norm);
      ++count;
      if (norm == 0) continue;
      for (int64_t k = 0; k < width; ++k) sum[static_cast<size_t>(k)] += v[k] / norm;
      self += 1;
    }
    if (count < 2) continue;
    double squared = 0;
    for (double s : sum) squared += s * s;
    const double pairs = 0.5 * static_cast<double>(count) * static_cast<double>(count - 1);
    total += 0.5 * (squared - self) / pairs;
    ++sequences;
  }
  return sequences > 0 ? total / static_cast<double>(sequences) : NAN;
}

double token_similarity(const AttentionMap& map) {
  if (!map.block_output.defined()) return NAN;
  const int64_t batch = map.block_output.size(0), length = map.block_output.size(1);
  if (!map.mask.defined()) return mean_pairwise_cosine(map.block_output);
  // The mask as the scores saw it, [B, H, T, S]: a query (token) is padding when its whole row
  // is -inf.
  const Shape& scores = map.scores.shape();
  MMX_CHECK(scores.size() == 4 && scores[0] == batch && scores[2] == length,
            "token_similarity: scores ", to_string(scores), " do not match the block output ",
            to_string(map.block_output.shape()));
  const std::vector<float> mask = map.mask.expand(scores).contiguous().to_vector();
  const int64_t keys = scores[3], row_stride = keys, batch_stride = scores[1] * length * keys;
  std::vector<bool> real(static_cast<size_t>(batch * length), false);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < length; ++t)
      for (int64_t s = 0; s < keys; ++s)
        if (std::isfinite(mask[static_cast<size_t>(b * batch_stride + t * row_stride + s)]))
          real[static_cast<size_t>(b * length + t)] = true;
  return mean_pairwise_cosine(map.block_output, real);
}

}  // namespace mmx::nn
