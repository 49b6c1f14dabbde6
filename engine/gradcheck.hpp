// gradcheck: compares the tape's gradients with central differences. The output is projected
// on a fixed random direction w, L = sum(w * f(inputs)), so one backward checks the whole
// vector-Jacobian product; the numerical side perturbs each input element by +-eps.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.hpp"

namespace mmx {

struct GradcheckOptions {
  float eps = 1e-3f;
  float rtol = 1e-2f;
  float atol = 1e-3f;
  uint64_t seed = 1234;
};

struct GradcheckResult {
  bool ok = true;
  float max_abs_error = 0.0f;
  std::string message;  // the first mismatch: input, element, analytic vs numerical
};

// `inputs` that require grad are checked. `fn` must be deterministic.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& opt = {});

}  // namespace mmx
