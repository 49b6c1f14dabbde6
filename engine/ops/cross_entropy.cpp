// cross_entropy: fused log-softmax + negative log-likelihood over the last axis, mean over the
// rows whose target is not ignore_index. Backward: (softmax - onehot) * dL / count.
#include "engine/kernels/cross_entropy.hpp"
#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/kernels/elementwise.hpp"
#include "engine/ops.hpp"

namespace mmx {

Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& targets,
                     int64_t ignore_index) {
  MMX_CHECK(logits.dim() >= 1 && logits.size(-1) > 0,
            "cross_entropy: logits need a non-empty class axis, got ", to_string(logits.shape()));
  const int64_t classes = logits.size(-1);
  const int64_t rows = logits.numel() / classes;
  MMX_CHECK(static_cast<int64_t>(targets.size()) == rows, "cross_entropy: ", targets.size(),
            " targets for logits ", to_string(logits.shape()), " (", rows, " rows)");
  for (int64_t t : targets)
    MMX_CHECK(t == ignore_index || (t >= 0 && t < classes), "cross_entropy: target ", t,
              " out of range for ", classes, " classes (ignore_index ", ignore_index, ")");
  const Tensor dense = kernels::contiguous_copy(logits);
  const Tensor rows_view = Tensor::view_of(dense, {rows, classes}, {classes, 1}, dense.offset());
  kernels::CrossEntropyForward f = kernels::cross_entropy_forward(rows_view, targets, ignore_index);
  Tensor loss = Tensor::scalar(f.loss);
  if (autograd::needs_grad({logits})) {
    autograd::record(
        "cross_entropy", {logits}, loss, {dense},
        [rows_view, lse = f.logsumexp, targets, ignore_index, counted = f.counted,
         shape = logits.shape()](const Tensor& gy) {
          // No counted row: the loss is the constant 0, its gradient 0 everywhere.
          const float scale = counted > 0 ? gy.item() / static_cast<float>(counted) : 0.0f;
          const Tensor g =
              kernels::cross_entropy_backward(rows_view, lse, targets, ignore_index, scale);
          return std::vector<Tensor>{Tensor::view_of(g, shape, contiguous_strides(shape), 0)};
        });
  }
  return loss;
}

}  // namespace mmx
