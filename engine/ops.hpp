/// \file
/// The differentiable ops of the engine. Each op computes its forward through a kernel and, when
/// an input requires grad, records its backward on the tape; both halves sit side by side in one
/// file per family under engine/ops/. Errors are mmx::Error naming the op and the shapes.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/random.hpp"
#include "engine/tensor.hpp"

namespace mmx {

// --- elementwise binary, NumPy broadcasting (ops/arithmetic.cpp) ---
/// a + b, broadcasting.
Tensor add(const Tensor& a, const Tensor& b);
/// a - b, broadcasting.
Tensor sub(const Tensor& a, const Tensor& b);
/// a * b elementwise, broadcasting.
Tensor mul(const Tensor& a, const Tensor& b);
/// a / b elementwise, broadcasting.
Tensor div(const Tensor& a, const Tensor& b);
/// a + b for every element.
Tensor add(const Tensor& a, float b);
/// a - b for every element.
Tensor sub(const Tensor& a, float b);
/// a * b for every element.
Tensor mul(const Tensor& a, float b);
/// a / b for every element.
Tensor div(const Tensor& a, float b);
/// -a.
Tensor neg(const Tensor& a);

// --- elementwise unary (ops/unary.cpp) ---
/// GELU's tanh approximation (GPT-2's) or the exact erf form.
enum class GeluForm { Tanh, Exact };
/// e^x elementwise.
Tensor exp(const Tensor& x);
/// Natural logarithm elementwise.
Tensor log(const Tensor& x);
/// Square root elementwise.
Tensor sqrt(const Tensor& x);
/// x^exponent elementwise.
Tensor pow(const Tensor& x, float exponent);
/// tanh elementwise.
Tensor tanh(const Tensor& x);
/// max(x, 0) elementwise (gradient 0 at 0).
Tensor relu(const Tensor& x);
/// GELU elementwise, in the chosen form.
Tensor gelu(const Tensor& x, GeluForm form = GeluForm::Tanh);

// --- reductions (ops/reduce.cpp). Empty `axes` means every axis. ---
/// Sum over `axes` (every axis when empty); keepdim keeps them as size 1.
Tensor sum(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
/// Mean over `axes` (every axis when empty); keepdim keeps them as size 1.
Tensor mean(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
/// Max over one axis; the gradient goes to the first maximal element.
Tensor max(const Tensor& x, int64_t axis, bool keepdim = false);

// --- linear algebra (ops/matmul.cpp) ---
/// [m, k] x [k, n], or batched [..., m, k] x [..., k, n] with broadcast batch dims. Transposed
/// views (from transpose/permute) are passed to oneDNN through their strides, never copied.
Tensor matmul(const Tensor& a, const Tensor& b);
/// x [..., in] . weight[out, in]^T + bias[out]: one matmul with the bias fused. bias may be
/// undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);
///@{
/// Causal attention's two products (ops/causal_attention.cpp), skipping the work above the
/// diagonal. causal_scores: q, k [..., T, d] -> scale tril(q k^T) [..., T, T], zero above the
/// diagonal. causal_weighted_sum: p [..., T, T], v [..., T, d] -> tril(p) v (p's entries above
/// the diagonal are not read and get no gradient).
Tensor causal_scores(const Tensor& q, const Tensor& k, float scale = 1.0f);
Tensor causal_weighted_sum(const Tensor& p, const Tensor& v);
///@}

// --- normalization over the last axis (ops/softmax.cpp, ops/layer_norm.cpp) ---
/// SoftMax over the last axis.
Tensor softmax(const Tensor& x);
/// log(SoftMax) over the last axis, computed stably.
Tensor log_softmax(const Tensor& x);
/// LayerNorm over the last axis with scale `weight` and shift `bias` (both [last]).
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);

// --- lookup, losses, noise (ops/embedding.cpp, ops/cross_entropy.cpp, ops/dropout.cpp) ---
/// weight [vocab, d], ids of shape `ids_shape` -> [..ids_shape, d]. An id outside [0, vocab) is
/// an error.
Tensor embedding(const Tensor& weight, const std::vector<int64_t>& ids, const Shape& ids_shape);
/// logits [..., C]; one target per row; rows whose target is `ignore_index` don't count.
/// Returns the mean loss over counted rows (0 when none count).
Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& targets,
                     int64_t ignore_index = -100);
/// Inverted dropout: zeroes with probability p and scales the rest by 1/(1-p) when training.
Tensor dropout(const Tensor& x, float p, bool training, Generator& gen);

// --- shape (ops/shape_ops.cpp). Views share storage; cat and contiguous copy. ---
Tensor reshape(const Tensor& x, const Shape& shape);  ///< one -1 allowed
/// A view with the axes reordered: new axis i is old axis axes[i].
Tensor permute(const Tensor& x, const Shape& axes);
/// A view with axes a and b swapped.
Tensor transpose(const Tensor& x, int64_t a, int64_t b);
/// A view of [start, end) along `axis`.
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end);
Tensor expand(const Tensor& x, const Shape& shape);  ///< broadcast view, stride 0
/// x when already row-major dense, else a dense copy.
Tensor contiguous(const Tensor& x);
/// Joins tensors along `axis` (a copy); the other sizes must agree.
Tensor cat(const std::vector<Tensor>& xs, int64_t axis);
/// Views of consecutive pieces of `sizes` along `axis` (they must sum to its size).
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis);

// --- selection (ops/select.cpp) ---
/// cond is read as a mask: nonzero picks `a`, zero picks `b`. All three broadcast.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
/// x with `value` where `mask` (broadcast) is nonzero.
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value);

}  // namespace mmx
