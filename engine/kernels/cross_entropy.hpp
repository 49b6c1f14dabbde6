// Fused softmax cross-entropy kernels: one pass per row computes log-sum-exp and the row's
// negative log-likelihood; the backward writes (softmax - onehot) * scale from the saved lse.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.hpp"

namespace mmx::kernels {

struct CrossEntropyForward {
  float loss = 0.0f;    // mean over counted rows, 0 when none count
  int64_t counted = 0;  // rows whose target is not ignore_index
  Tensor logsumexp;     // [rows], kept for the backward
};

// logits [rows, C] contiguous; every target is in [0, C) or ignore_index (the op checks).
CrossEntropyForward cross_entropy_forward(const Tensor& logits, const std::vector<int64_t>& targets,
                                          int64_t ignore_index);
CrossEntropyForward cross_entropy_forward_naive(const Tensor& logits,
                                                const std::vector<int64_t>& targets,
                                                int64_t ignore_index);
// d(scale * sum of counted row losses)/d logits: (softmax - onehot) * scale, ignored rows 0.
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& logsumexp,
                              const std::vector<int64_t>& targets, int64_t ignore_index,
                              float scale);
Tensor cross_entropy_backward_naive(const Tensor& logits, const std::vector<int64_t>& targets,
                                    int64_t ignore_index, float scale);

}  // namespace mmx::kernels
