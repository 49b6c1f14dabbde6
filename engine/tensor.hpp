/// \file
/// Tensor: a float32 N-d view (shape, strides, offset) onto shared, 64-byte aligned storage.
/// Copying a Tensor copies a handle; views share storage. Autograd state hangs off AutogradMeta.
/// backward() and the shortcuts to ops are declared here but defined in the layers that own them
/// (engine/autograd/, engine/ops/), so this layer needs neither; multimax::engine links them.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "engine/random.hpp"
#include "engine/shape.hpp"

namespace mmx {

/// One 64-byte aligned float buffer. `version` counts in-place writes so that backward can
/// refuse to run on a tensor that changed after an op saved it.
struct Storage {
  /// Allocates `size` floats, uninitialised.
  explicit Storage(int64_t size);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  /// the aligned buffer
  float* data = nullptr;
  /// in floats
  int64_t size = 0;
  /// bumped by every in-place write
  uint64_t version = 0;
};

class Tensor;
struct AutogradMeta;

/// A tensor's view (shape, strides, offset) onto its storage, shared by the Tensor handles.
struct TensorImpl {
  /// the buffer, shared with every view of it
  std::shared_ptr<Storage> storage;
  /// sizes per axis
  Shape shape;
  /// in elements, per axis
  Shape strides;
  /// of element 0, in elements from the start of the storage
  int64_t offset = 0;
  std::shared_ptr<AutogradMeta> autograd;  ///< null until the tensor takes part in autograd
};

/// A float32 N-d view with value semantics of a handle: copies share the view and its storage.
class Tensor {
 public:
  Tensor() = default;  ///< undefined: `defined()` is false

  // --- creation (contiguous, row-major) ---
  static Tensor empty(const Shape& shape);  ///< uninitialised
  /// Filled with 0.
  static Tensor zeros(const Shape& shape);
  /// Filled with 1.
  static Tensor ones(const Shape& shape);
  /// Filled with `value`.
  static Tensor full(const Shape& shape, float value);
  static Tensor scalar(float value);  ///< 0-d
  /// start, start + step, ... below end, 1-d.
  static Tensor arange(float start, float end, float step = 1.0f);
  /// Normal samples N(mean, std^2) drawn from `gen`.
  static Tensor randn(const Shape& shape, Generator& gen, float mean = 0.0f, float std = 1.0f);
  /// Uniform samples in [low, high) drawn from `gen`.
  static Tensor uniform(const Shape& shape, Generator& gen, float low = 0.0f, float high = 1.0f);
  /// A copy of `values` (row-major) with `shape`; the counts must agree.
  static Tensor from_data(const std::vector<float>& values, const Shape& shape);
  /// A view onto existing storage (no copy, no autograd): the building block of every view op.
  static Tensor view_of(const Tensor& base, const Shape& shape, const Shape& strides,
                        int64_t offset);

  // --- metadata ---
  /// False for a default-constructed Tensor.
  bool defined() const { return impl_ != nullptr; }
  /// Sizes per axis.
  const Shape& shape() const;
  /// Strides per axis, in elements.
  const Shape& strides() const;
  /// Element 0's position in the storage, in elements.
  int64_t offset() const;
  /// The number of axes.
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t axis) const;  ///< negative axes count from the end
  /// The number of elements.
  int64_t numel() const;
  /// Row-major dense: strides equal contiguous_strides(shape()).
  bool is_contiguous() const;
  /// Whether both are views of the same buffer.
  bool shares_storage(const Tensor& other) const;

  // --- data access ---
  /// Pointer to element 0 of this view (storage + offset). Index with the strides.
  float* data();
  /// Read-only pointer to element 0 of this view.
  const float* data() const;
  float item() const;                                    ///< the one element of a 1-element tensor
  float at(std::initializer_list<int64_t> index) const;  ///< bounds-checked element read
  void set(std::initializer_list<int64_t> index, float value);  ///< bounds-checked, in-place
  std::vector<float> to_vector() const;                         ///< elements in row-major order
  /// The values as nested brackets, at most `max_per_axis` per axis.
  std::string to_string(int max_per_axis = 6) const;

  // --- in-place (no autograd; bump the version so saved copies are detected) ---
  /// Sets every element to `value`.
  Tensor& fill_(float value);
  Tensor& copy_(const Tensor& src);                       ///< same shape
  Tensor& add_(const Tensor& other, float alpha = 1.0f);  ///< same shape
  /// Counts an in-place write made through data().
  void bump_version();
  /// The storage's in-place write count.
  uint64_t version() const;

  // --- autograd ---
  /// Makes this leaf take part in autograd; returns *this.
  Tensor& requires_grad_(bool on = true);
  /// Whether gradients flow to this tensor.
  bool requires_grad() const;
  bool is_leaf() const;  ///< not produced by a recorded op
  Tensor grad() const;   ///< undefined until backward reaches this tensor
  /// Replaces the gradient.
  void set_grad(const Tensor& g);
  void zero_grad();       ///< drops the gradient
  void retain_grad();     ///< keep the gradient of a non-leaf after backward
  Tensor detach() const;  ///< shares storage, no autograd history
  ///@{
  /// Reverse-mode from this tensor. A non-scalar needs an explicit seed gradient.
  /// Defined with the tape (engine/autograd/backward.cpp).
  void backward(bool retain_graph = false) const;
  void backward(const Tensor& seed, bool retain_graph = false) const;
  ///@}

  // --- views and shape ops (autograd-aware shortcuts for the ops in ops.hpp, defined with
  // them in engine/ops/tensor_shortcuts.cpp) ---
  /// The same elements with a new shape (a view when this tensor is contiguous).
  Tensor reshape(const Shape& shape) const;
  /// A view with the axes reordered: new axis i is old axis axes[i].
  Tensor permute(const Shape& axes) const;
  /// A view with axes a and b swapped.
  Tensor transpose(int64_t a, int64_t b) const;
  Tensor slice(int64_t axis, int64_t start, int64_t end) const;  ///< [start, end)
  /// A broadcast view (stride 0 along the grown size-1 axes).
  Tensor expand(const Shape& shape) const;
  /// This tensor when already row-major dense, else a dense copy.
  Tensor contiguous() const;

  /// The shared view, or null when undefined.
  TensorImpl* impl() const { return impl_.get(); }
  /// No other handle or view shares this tensor's storage: an in-place write is seen nowhere else.
  bool sole_owner() const { return impl_.use_count() == 1 && impl_->storage.use_count() == 1; }
  /// A handle on the storage that does not keep it alive (expired once the last view is gone):
  /// for caches of copies, which must not outlive what they copy (kernels/kept_copies.hpp).
  std::weak_ptr<const Storage> weak_storage() const { return checked().storage; }
  AutogradMeta& autograd() const;  ///< created on first use

 private:
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}
  const TensorImpl& checked() const;
  std::shared_ptr<TensorImpl> impl_;
};

/// Prints to_string().
std::ostream& operator<<(std::ostream& out, const Tensor& t);

///@{
/// Arithmetic operators: shortcuts for add/sub/mul/div/neg in ops.hpp (autograd-aware), defined
/// with them (engine/ops/tensor_shortcuts.cpp).
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, float b);
Tensor operator-(const Tensor& a, float b);
Tensor operator*(const Tensor& a, float b);
Tensor operator/(const Tensor& a, float b);
Tensor operator+(float a, const Tensor& b);
Tensor operator-(float a, const Tensor& b);
Tensor operator*(float a, const Tensor& b);
Tensor operator-(const Tensor& a);
///@}

}  // namespace mmx
