// MultiMax kernels: the fused modulate + mask + softmax forward over the last axis and its
// backward (dx and the gradients of t and r), with naive double-precision references beside them.
#pragma once

#include "engine/tensor.hpp"

namespace mmx::kernels {

// t and r hold 4 values per layer ([4]) or per head ([H, 4], x of shape [.., H, T, S]); order 1
// reads t[0..1], r[0..1] only. Returns H, or throws naming `op` and the shapes.
int64_t multimax_heads(const char* op, const Tensor& x, const Tensor& t, const Tensor& r,
                       int order);

// p = softmax(sigma(x) + mask) over the last axis; see DESIGN.md "MultiMax". Rows with every
// column masked are all zeros. The mask (may be undefined) broadcasts to x; causal skips
// column j > query i of the last two axes.
Tensor multimax_forward(const Tensor& x, const Tensor& t, const Tensor& r, int order,
                        const Tensor& mask, bool causal);
Tensor multimax_forward_naive(const Tensor& x, const Tensor& t, const Tensor& r, int order,
                              const Tensor& mask, bool causal);

struct MultiMaxGradients {
  Tensor dx;  // x's shape
  Tensor dt;  // t's shape
  Tensor dr;  // r's shape
};
// From x, p = multimax(x) and g = dL/dp. Needs no mask: masked columns have p = 0, which zeroes
// their every term; `causal` only lets the loops stop early. dx goes into `into` when given
// (dense, x's shape; it may be g itself), else a new tensor.
MultiMaxGradients multimax_backward(const Tensor& x, const Tensor& p, const Tensor& g,
                                    const Tensor& t, const Tensor& r, int order, bool causal,
                                    Tensor into = Tensor());
MultiMaxGradients multimax_backward_naive(const Tensor& x, const Tensor& p, const Tensor& g,
                                          const Tensor& t, const Tensor& r, int order);

}  // namespace mmx::kernels
