/// \file
/// MultiMaxParameters: the learnable temperatures "t" and breakpoints "r" of one MultiMax,
/// [4] when shared by the heads or [heads, 4] when per head, drawn from a truncated N(0, 0.02)
/// so a fresh MultiMax is close to SoftMax.
#pragma once

#include "engine/normalizers.hpp"
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
  const Tensor& t() const { return t_; }
  /// Breakpoints, [4] or [heads, 4].
  const Tensor& r() const { return r_; }
  /// 1 or 2.
  int order() const { return order_; }
  /// What the multimax op takes.
  MultiMaxParams params() const { return {t_, r_, order_}; }

  /// sigma(x), the modulation alone, from differentiable ops; per-head parameters need x
  /// [.., heads, T, S]. The output head uses it: softmax(sigma(logits)) is MultiMax, and
  /// cross-entropy on sigma(logits) stays in log space where log(multimax(x)) could underflow.
  Tensor modulate(const Tensor& x) const;

 private:
  Tensor t_;
  Tensor r_;
  int order_;
};

}  // namespace mmx::nn
