// softmax_temperature op: softmax(x / T + mask), the SoftMax baseline with a fixed temperature.
#include "engine/autograd/tape.hpp"
#include "engine/kernels/masked_softmax.hpp"
#include "engine/normalizers.hpp"

namespace mmx {

Tensor softmax_temperature(const Tensor& x, float temperature, const Tensor& mask, bool causal) {
  Tensor p = kernels::softmax_temperature_forward(x, temperature, mask, causal);
  if (autograd::needs_grad({x}))
    autograd::record("softmax_temperature", {x}, p, /*saved=*/{p},
                     [p, temperature, mask, causal](const Tensor& gp) {
                       // Over gp when the tape holds no other handle on it: at the attention
                       // backward's memory peak that is one score-sized tensor fewer.
                       return std::vector<Tensor>{kernels::softmax_rows_backward(
                           p, gp, 1.0f / temperature, mask, causal, autograd::reusable(gp))};
                     });
  return p;
}

}  // namespace mmx
