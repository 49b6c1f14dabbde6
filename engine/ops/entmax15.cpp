// entmax15 op: exact sort-based forward; backward needs only the output (weights sqrt(p)).
#include "engine/kernels/entmax15.hpp"
#include "engine/autograd/tape.hpp"
#include "engine/normalizers.hpp"

namespace mmx {

Tensor entmax15(const Tensor& x, const Tensor& mask, bool causal) {
  Tensor p = kernels::entmax15_forward(x, mask, causal);
  if (autograd::needs_grad({x}))
    autograd::record("entmax15", {x}, p, /*saved=*/{p}, [p](const Tensor& gp) {
      return std::vector<Tensor>{kernels::entmax15_backward(p, gp)};
    });
  return p;
}

}  // namespace mmx
