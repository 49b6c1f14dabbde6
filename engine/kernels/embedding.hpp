// Embedding lookup kernels: gather rows of a [vocab, d] table by id, and the backward that
// scatter-adds gradient rows back into a [vocab, d] table. Ids are checked by the op.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.hpp"

namespace mmx::kernels {

// -> [ids.size(), d], contiguous. weight may be any 2-D view.
Tensor embedding_forward(const Tensor& weight, const std::vector<int64_t>& ids);
Tensor embedding_forward_naive(const Tensor& weight, const std::vector<int64_t>& ids);
// gy [ids.size(), d] contiguous -> [vocab, d]; repeated ids add up.
Tensor embedding_backward(const Tensor& gy, const std::vector<int64_t>& ids, int64_t vocab);
Tensor embedding_backward_naive(const Tensor& gy, const std::vector<int64_t>& ids, int64_t vocab);

}  // namespace mmx::kernels
