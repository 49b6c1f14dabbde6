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
  MMX_CHECK(params_.t.dim() == 1,
            "MultiMaxParameters::modulate: needs shared parameters [4], got t ",
            to_string(params_.t.shape()));
  auto t = [&](int64_t k) { return slice(params_.t, 0, k, k + 1); };
  auto r = [&](int64_t k) { return slice(params_.r, 0, k, k + 1); };
  Tensor sigma = x + t(0) * relu(r(0) - x) + t(1) * relu(x - r(1));
  if (params_.order == 2) {
    Tensor below = relu(r(2) - x), above = relu(x - r(3));
    sigma = sigma + t(2) * below * below + t(3) * above * above;
  }
  return sigma;
}

}  // namespace mmx::nn
