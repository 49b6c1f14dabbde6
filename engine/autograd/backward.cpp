// Tensor::backward: declared with the Tensor, defined here, in the layer that owns the tape, so
// that the tensor layer below needs nothing of autograd's.
#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/tensor.hpp"

namespace mmx {

void Tensor::backward(bool retain_graph) const {
  MMX_CHECK(numel() == 1, "backward: called on a tensor of shape ", mmx::to_string(shape()),
            "; pass a seed gradient for non-scalar outputs");
  backward(Tensor::ones(shape()), retain_graph);
}

void Tensor::backward(const Tensor& seed, bool retain_graph) const {
  autograd::run_backward(*this, seed, retain_graph);
}

}  // namespace mmx
