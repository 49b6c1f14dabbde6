// evsoftmax op: the mean-thresholded softmax; its weights are locally constant in x, so the
// backward is the softmax backward on the output.
#include "engine/kernels/evsoftmax.hpp"
#include "engine/autograd/tape.hpp"
#include "engine/kernels/masked_softmax.hpp"
#include "engine/normalizers.hpp"

namespace mmx {

Tensor evsoftmax(const Tensor& x, const Tensor& mask, bool causal, bool training, float eps) {
  Tensor p = kernels::evsoftmax_forward(x, mask, causal, training, eps);
  if (autograd::needs_grad({x}))
    autograd::record("evsoftmax", {x}, p, /*saved=*/{p}, [p](const Tensor& gp) {
      return std::vector<Tensor>{kernels::softmax_rows_backward(p, gp, 1.0f)};
    });
  return p;
}

Tensor evsoftmax_logits(const Tensor& x, const Tensor& mask, bool causal) {
  return kernels::evsoftmax_kept_logits(x, mask, causal);
}

}  // namespace mmx
