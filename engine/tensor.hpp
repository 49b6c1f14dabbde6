// Tensor: a float32 N-d view (shape, strides, offset) onto shared, 64-byte aligned storage.
// Copying a Tensor copies a handle; views share storage. Autograd state hangs off AutogradMeta.
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

// One 64-byte aligned float buffer. `version` counts in-place writes so that backward can
// refuse to run on a tensor that changed after an op saved it.
struct Storage {
  explicit Storage(int64_t size);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  float* data = nullptr;
  int64_t size = 0;
  uint64_t version = 0;
};

class Tensor;
struct AutogradMeta;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;
  std::shared_ptr<AutogradMeta> autograd;  // null until the tensor takes part in autograd
};

class Tensor {
 public:
  Tensor() = default;  // undefined: `defined()` is false

  // --- creation (contiguous, row-major) ---
  static Tensor empty(const Shape& shape);  // uninitialised
  static Tensor zeros(const Shape& shape);
  static Tensor ones(const Shape& shape);
  static Tensor full(const Shape& shape, float value);
  static Tensor scalar(float value);  // 0-d
  static Tensor arange(float start, float end, float step = 1.0f);
  static Tensor randn(const Shape& shape, Generator& gen, float mean = 0.0f, float std = 1.0f);
  static Tensor uniform(const Shape& shape, Generator& gen, float low = 0.0f, float high = 1.0f);
  static Tensor from_data(const std::vector<float>& values, const Shape& shape);
  // A view onto existing storage (no copy, no autograd): the building block of every view op.
  static Tensor view_of(const Tensor& base, const Shape& shape, const Shape& strides,
                        int64_t offset);

  // --- metadata ---
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  const Shape& strides() const;
  int64_t offset() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t axis) const;  // negative axes count from the end
  int64_t numel() const;
  bool is_contiguous() const;
  bool shares_storage(const Tensor& other) const;

  // --- data access ---
  // Pointer to element 0 of this view (storage + offset). Index with the strides.
  float* data();
  const float* data() const;
  float item() const;                                   // the one element of a 1-element tensor
  float at(std::initializer_list<int64_t> index) const;  // bounds-checked element read
  void set(std::initializer_list<int64_t> index, float value);  // bounds-checked, in-place
  std::vector<float> to_vector() const;                  // elements in row-major order
  std::string to_string(int max_per_axis = 6) const;

  // --- in-place (no autograd; bump the version so saved copies are detected) ---
  Tensor& fill_(float value);
  Tensor& copy_(const Tensor& src);        // same shape
  Tensor& add_(const Tensor& other, float alpha = 1.0f);  // same shape
  void bump_version();
  uint64_t version() const;

  // --- autograd ---
  Tensor& requires_grad_(bool on = true);
  bool requires_grad() const;
  bool is_leaf() const;   // not produced by a recorded op
  Tensor grad() const;    // undefined until backward reaches this tensor
  void set_grad(const Tensor& g);
  void zero_grad();       // drops the gradient
  void retain_grad();     // keep the gradient of a non-leaf after backward
  Tensor detach() const;  // shares storage, no autograd history
  // Reverse-mode from this tensor. A non-scalar needs an explicit seed gradient.
  void backward(bool retain_graph = false) const;
  void backward(const Tensor& seed, bool retain_graph = false) const;

  // --- views and shape ops (autograd-aware shortcuts for the ops in ops.hpp) ---
  Tensor reshape(const Shape& shape) const;
  Tensor permute(const Shape& axes) const;
  Tensor transpose(int64_t a, int64_t b) const;
  Tensor slice(int64_t axis, int64_t start, int64_t end) const;  // [start, end)
  Tensor expand(const Shape& shape) const;
  Tensor contiguous() const;

  TensorImpl* impl() const { return impl_.get(); }
  AutogradMeta& autograd() const;  // created on first use

 private:
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}
  const TensorImpl& checked() const;
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& out, const Tensor& t);

// Arithmetic operators: shortcuts for add/sub/mul/div/neg in ops.hpp (autograd-aware).
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

}  // namespace mmx
