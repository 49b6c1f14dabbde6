#include "nn/layers/multimax_parameters.hpp"

#include "engine/error.hpp"
#include "engine/ops.hpp"
#include "nn/layers/init.hpp"

namespace mmx::nn {

namespace {
constexpr uint64_t kMultiMaxSalt = 0x4D756C74694D6178ull;  // "MultiMax"
}  // namespace

MultiMaxParameters::MultiMaxParameters(int64_t heads, int order, const Generator& model_gen) {
  MMX_CHECK(heads >= 0, "MultiMaxParameters: heads must be >= 0, got ", heads);
  MMX_CHECK(order == 1 || order == 2, "MultiMaxParameters: order must be 1 or 2, got ", order);
  const Shape shape = heads == 0 ? Shape{4} : Shape{heads, 4};
  // Four pairs even for order 1 (which reads only the first two): the parameter set, and so a
  // checkpoint, does not depend on the order.
  Generator gen = model_gen.derived(kMultiMaxSalt);
  params_.t = register_parameter("t", truncated_normal(shape, gen, 0.02f));
  params_.r = register_parameter("r", truncated_normal(shape, gen, 0.02f));
  params_.order = order;
}

Tensor MultiMaxParameters::modulate(const Tensor& x) const {
  // Per head, t[:, k] as [H, 1, 1] broadcasts over x [.., H, T, S].
  const Tensor& t_all = params_.t;
  const bool per_head = t_all.dim() == 2;
  MMX_CHECK(!per_head || (x.dim() >= 3 && x.size(-3) == t_all.size(0)),
            "MultiMaxParameters::modulate: per-head parameters ", to_string(t_all.shape()),
            " need x [.., ", t_all.size(0), ", T, S], got ", to_string(x.shape()));
  auto column = [&](const Tensor& p, int64_t k) {
    return per_head ? reshape(slice(p, 1, k, k + 1), {p.size(0), 1, 1}) : slice(p, 0, k, k + 1);
  };
  auto t = [&](int64_t k) { return column(params_.t, k); };
  auto r = [&](int64_t k) { return column(params_.r, k); };
  Tensor sigma = x + t(0) * relu(r(0) - x) + t(1) * relu(x - r(1));
  if (params_.order == 2) {
    Tensor below = relu(r(2) - x), above = relu(x - r(3));
    sigma = sigma + t(2) * below * below + t(3) * above * above;
  }
  return sigma;
}

}  // namespace mmx::nn
