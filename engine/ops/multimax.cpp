// multimax op: the fused kernel forward; backward gives dx, dt and dr in one pass over x, p, g.
#include "engine/kernels/multimax.hpp"
#include "engine/autograd/tape.hpp"
#include "engine/normalizers.hpp"

namespace mmx {

Tensor multimax(const Tensor& x, const MultiMaxParams& params, const Tensor& mask, bool causal) {
  const Tensor& t = params.t;
  const Tensor& r = params.r;
  const int order = params.order;
  Tensor p = kernels::multimax_forward(x, t, r, order, mask, causal);
  if (autograd::needs_grad({x, t, r}))
    autograd::record("multimax", {x, t, r}, p, /*saved=*/{x, p, t, r},
                     [x, p, t, r, order, causal](const Tensor& gp) {
                       // Over gp when the tape holds no other handle on it, as SoftMax's.
                       kernels::MultiMaxGradients g = kernels::multimax_backward(
                           x, p, gp, t, r, order, causal, autograd::reusable(gp));
                       return std::vector<Tensor>{g.dx, g.dt, g.dr};
                     });
  return p;
}

}  // namespace mmx
