// multimax op: the fused kernel forward; backward gives dx, dt and dr in one pass over x, p, g.
#include "engine/kernels/multimax.hpp"
#include "engine/autograd/tape.hpp"
#include "engine/normalizers.hpp"

namespace mmx {

Tensor multimax(const Tensor& x, const MultiMaxParams& params, const Tensor& mask, bool causal) {
  Tensor p = kernels::multimax_forward(x, params, mask, causal);
  if (autograd::needs_grad({x, params.t, params.r}))
    autograd::record("multimax", {x, params.t, params.r}, p, /*saved=*/{x, p, params.t, params.r},
                     [x, p, params, causal](const Tensor& gp) {
                       // Over gp when the tape holds no other handle on it, as SoftMax's.
                       kernels::MultiMaxGradients g = kernels::multimax_backward(
                           x, p, gp, params, causal, autograd::reusable(gp));
                       return std::vector<Tensor>{g.dx, g.dt, g.dr};
                     });
  return p;
}

}  // namespace mmx
