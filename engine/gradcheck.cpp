#include "engine/gradcheck.hpp"

#include <cmath>

#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/ops.hpp"

namespace mmx {

namespace {
// L = sum(w * y) in double, without recording.
double projected(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                 const std::vector<Tensor>& inputs, const std::vector<float>& w) {
  NoGrad no_grad;
  const std::vector<float> y = fn(inputs).to_vector();
  double total = 0.0;
  for (size_t i = 0; i < y.size(); ++i) total += static_cast<double>(w[i]) * y[i];
  return total;
}
}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  for (const Tensor& in : inputs) Tensor(in).zero_grad();
  const Tensor y = fn(inputs);
  Generator gen(opt.seed);
  const Tensor w = Tensor::uniform(y.shape(), gen, -1.0f, 1.0f);
  const std::vector<float> wv = w.to_vector();
  // Through an exact multiply by 1, fn's last op receives a gradient that only the tape holds,
  // as inside a model: the backward paths that write over that buffer are checked too.
  if (y.requires_grad()) mul(y, 1.0f).backward(w);

  GradcheckResult result;
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor in = inputs[k];
    if (!in.requires_grad()) continue;
    const Tensor analytic = in.grad();
    const std::vector<float> a =
        analytic.defined() ? analytic.to_vector() : std::vector<float>(in.numel(), 0.0f);
    std::vector<int64_t> offsets;
    for_each_offset(in.shape(), in.strides(), [&](int64_t off) { offsets.push_back(off); });
    for (size_t e = 0; e < offsets.size(); ++e) {
      // Each write is counted (bump_version): a product keeps what it derives from a weight
      // (its packed layout) until the weight's version changes.
      float* p = in.data() + offsets[e];
      const float original = *p;
      const auto set = [&](float value) {
        *p = value;
        in.bump_version();
      };
      set(original + opt.eps);
      const double plus = projected(fn, inputs, wv);
      set(original - opt.eps);
      const double minus = projected(fn, inputs, wv);
      set(original);
      const double numeric = (plus - minus) / (2.0 * opt.eps);
      const double err = std::fabs(numeric - a[e]);
      result.max_abs_error = std::max(result.max_abs_error, static_cast<float>(err));
      if (!(err <= opt.atol + opt.rtol * std::fabs(numeric)) && result.ok) {
        result.ok = false;
        result.message = cat("input ", k, " element ", e, ": analytic ", a[e], " vs numerical ",
                             numeric, " (shape ", to_string(in.shape()), ")");
      }
    }
    in.zero_grad();
  }
  return result;
}

}  // namespace mmx
