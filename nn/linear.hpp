// Linear: y = x W^T + b with W [out, in], one fused matmul. Parameters "weight" and, unless
// disabled, "bias"; both start as nn.Linear's default U(+-1/sqrt(in)).
#pragma once

#include "engine/random.hpp"
#include "nn/module.hpp"

namespace mmx::nn {

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, Generator& gen, bool bias = true);

  Tensor forward(const Tensor& x) const;  // [..., in] -> [..., out]

  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias

 private:
  Tensor weight_;
  Tensor bias_;
};

}  // namespace mmx::nn
