/// \file
/// The tape: a thread-local Wengert list. Each op that runs with grad mode on and an input that
/// requires grad appends one Node (its backward closure, the saved tensors, the autograd
/// identities of inputs and output). backward() walks the list in reverse from the root.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/autograd/no_grad.hpp"
#include "engine/autograd_meta.hpp"
#include "engine/tensor.hpp"

namespace mmx {

/// Given dL/d(output), returns dL/d(input_i) for each input, in order. An undefined Tensor
/// means "no gradient for this input". A returned gradient may have the broadcast shape; the
/// tape sums it down to the input's shape. dL/d(output) is dense; when it is its buffer's only
/// handle (`sole_owner()`), the backward may write a gradient of the same shape over it.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

namespace autograd {

/// False inside a NoGrad scope (and in backward closures).
bool grad_enabled();
///@{
/// True when grad mode is on and any of `inputs` requires grad: the op must record a node.
bool needs_grad(std::initializer_list<Tensor> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);
///@}

/// Appends a node. `saved` lists the tensors `backward` captured; their versions are checked
/// before it runs, so an in-place change after the forward is an error, not a wrong gradient.
void record(const char* op, const std::vector<Tensor>& inputs, Tensor& output,
            const std::vector<Tensor>& saved, BackwardFn backward);

/// grad_output itself when the backward holds its buffer's only handle, so a kernel may write
/// the input's gradient over it (the `into` of softmax_rows_backward and its like); else an
/// undefined tensor, and the kernel allocates.
inline Tensor reusable(const Tensor& grad_output) {
  return grad_output.sole_owner() ? grad_output : Tensor();
}

/// Appends the node of a view op whose output is the window [start, start + output.size(axis))
/// of `input` along `axis` (slice). Its backward is the tape's own: the output's gradient is
/// added into that window of the input's gradient, so the slices of one tensor (attention's q,
/// k, v) share one full-size gradient instead of making a zero-padded one each.
void record_window(const char* op, const Tensor& input, Tensor& output, int64_t axis,
                   int64_t start);

/// What Tensor::backward calls: reverse-mode from `root` with dL/d(root) = `seed`.
void run_backward(const Tensor& root, const Tensor& seed, bool retain_graph);

/// Wall time per op on this thread, to see where a training step goes (`mmx bench train
/// --profile`). Forward: each recorded op is charged the time since the previous record or
/// mark_op_profile(), i.e. its forward and anything else that ran in between, so mark before
/// each forward pass. Backward: each node is charged its backward and the sums of its gradients.
struct OpTime {
  int64_t calls = 0;         ///< forward records
  double forward_ms = 0.0;   ///< summed forward time (see above for what it holds)
  double backward_ms = 0.0;  ///< summed backward time, gradient sums included
};
/// Clears the totals and starts charging (the forward clock starts now).
void start_op_profile();
/// Restarts the forward clock: what ran since the last record is charged to no op.
void mark_op_profile();
/// Stops charging and returns the totals by op name.
std::map<std::string, OpTime> stop_op_profile();

size_t tape_size();  ///< nodes currently recorded on this thread
/// Drops this thread's recorded nodes without running them.
void clear_tape();

/// Sums `grad` over broadcast axes so it has `shape` (the inverse of NumPy broadcasting).
Tensor sum_to_shape(const Tensor& grad, const Shape& shape);

}  // namespace autograd

}  // namespace mmx
