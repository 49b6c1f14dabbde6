/// \file
/// gradcheck: compares the tape's gradients with central differences. The output is projected
/// on a fixed random direction w, L = sum(w * f(inputs)), so one backward checks the whole
/// vector-Jacobian product; the numerical side perturbs each input element by +-eps.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.hpp"

namespace mmx {

/// Step and tolerances of gradcheck().
struct GradcheckOptions {
  /// central-difference step
  float eps = 1e-3f;
  /// relative tolerance
  float rtol = 1e-2f;
  /// absolute tolerance
  float atol = 1e-3f;
  /// seed of the random projection of the output
  uint64_t seed = 1234;
};

/// What gradcheck() found.
struct GradcheckResult {
  /// every checked gradient within tolerance
  bool ok = true;
  /// the largest |analytic - numerical| seen
  float max_abs_error = 0.0f;
  std::string message;  ///< the first mismatch: input, element, analytic vs numerical
};

/// `inputs` that require grad are checked. `fn` must be deterministic.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& opt = {});

}  // namespace mmx
