// sparsemax op: exact sort-based forward; backward needs only the output (its support).
#include "engine/kernels/sparsemax.hpp"
#include "engine/autograd/tape.hpp"
#include "engine/normalizers.hpp"

namespace mmx {

Tensor sparsemax(const Tensor& x, const Tensor& mask, bool causal) {
  Tensor p = kernels::sparsemax_forward(x, mask, causal);
  if (autograd::needs_grad({x}))
    autograd::record("sparsemax", {x}, p, /*saved=*/{p}, [p](const Tensor& gp) {
      return std::vector<Tensor>{kernels::sparsemax_backward(p, gp)};
    });
  return p;
}

}  // namespace mmx
