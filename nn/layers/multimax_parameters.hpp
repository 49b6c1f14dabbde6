/// \file
/// MultiMaxParameters: the learnable temperatures "t" and breakpoints "r" of one MultiMax,
/// [4] when shared by the heads or [heads, 4] when per head, drawn from a truncated N(0, 0.02)
/// so a fresh MultiMax is close to SoftMax.
#pragma once

#include "engine/multimax_params.hpp"
#include "engine/random.hpp"
#include "nn/module.hpp"

namespace mmx::nn {

/// One MultiMax's learnable t and r (see the file comment).
class MultiMaxParameters : public Module {
 public:
  /// heads == 0: one set shared by every row; heads > 0: one set per head. t and r come from
  /// a stream derived from `model_gen` (Generator::derived), which they leave unadvanced: a
  /// model with MultiMax has the same other weights as the same model and seed with SoftMax.
  MultiMaxParameters(int64_t heads, int order, const Generator& model_gen);

  /// Temperatures, [4] or [heads, 4].
  const Tensor& t() const { return params_.t; }
  /// Breakpoints, [4] or [heads, 4].
  const Tensor& r() const { return params_.r; }
  /// 1 or 2.
  int order() const { return params_.order; }
  /// (t, r, order) as the ops and kernels take them.
  const MultiMaxParams& params() const { return params_; }

  /// sigma(x), the modulation alone, from differentiable ops; per-head parameters need x
  /// [.., heads, T, S]. The output head uses it: softmax(sigma(logits)) is MultiMax, and
  /// cross-entropy on sigma(logits) stays in log space where log(multimax(x)) could underflow.
  Tensor modulate(const Tensor& x) const;

 private:
  MultiMaxParams params_;
};

}  // namespace mmx::nn
