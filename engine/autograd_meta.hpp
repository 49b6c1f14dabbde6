/// \file
/// AutogradMeta: what a tensor carries for autograd. It sits with the tensor, whose accessors
/// (requires_grad, grad, retain_grad) read and write it; the tape (engine/autograd/) records
/// which node made a tensor in it.
#pragma once

#include <cstdint>

#include "engine/shape.hpp"
#include "engine/tensor.hpp"

namespace mmx {

/// What autograd knows about a tensor, kept apart from its data: a node holds the metas of
/// its inputs (to route gradients) without keeping their storage alive.
struct AutogradMeta {
  /// gradients flow to this tensor
  bool requires_grad = false;
  bool retains_grad = false;  ///< keep grad of a non-leaf after backward
  /// accumulated by backward; undefined until then
  Tensor grad;
  Shape shape;  ///< for reducing broadcast gradients back to this shape
  /// Set for outputs of recorded ops: which tape (generation) and which node made it.
  uint64_t tape_generation = 0;
  /// the node that made it; -1 for a leaf
  int64_t tape_position = -1;
  /// Not made by a recorded op.
  bool is_leaf() const { return tape_position < 0; }
};

}  // namespace mmx
