#include "engine/tensor.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iomanip>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sstream>

#include "engine/autograd_meta.hpp"
#include "engine/block_pool.hpp"
#include "engine/error.hpp"
#include "engine/strided_copy.hpp"

namespace mmx {

// ---------------------------------------------------------------- storage

namespace {
// Why: glibc serves blocks above its mmap threshold with fresh mmaps and trims the heap top back
// to the OS, so memory freed and allocated again came back as new pages, each faulted and zeroed
// again (17% of a tiny GPT step in the kernel's page-fault path). Tensor buffers now come from
// the block pool; this keeps the rest (oneDNN's scratchpads, bf16 copies) in the process too.
// Other C libraries keep their own policy.
bool keep_freed_memory_in_process() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 256 << 20);  // blocks up to 256 MiB come from the reusable heap
  mallopt(M_TRIM_THRESHOLD, 512 << 20);  // only trim when half a GiB lies free at the top
#endif
  return true;
}

size_t storage_bytes(int64_t floats) {
  return static_cast<size_t>(std::max<int64_t>(floats, 1)) * sizeof(float);
}
}  // namespace

Storage::Storage(int64_t n) : size(n) {
  static const bool allocator_tuned = keep_freed_memory_in_process();
  (void)allocator_tuned;
  // 64-byte aligned, so that SIMD loads and oneDNN run at full width.
  data = static_cast<float*>(acquire_block(storage_bytes(n)));
  if (!data) throw Error(cat("tensor: cannot allocate ", n, " floats"));
}

Storage::~Storage() {
  release_block(data, storage_bytes(size));
}

// ---------------------------------------------------------------- creation

Tensor Tensor::empty(const Shape& shape) {
  for (int64_t s : shape)
    MMX_CHECK(s >= 0, "tensor: negative size in shape ", mmx::to_string(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(mmx::numel(shape));
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape) {
  return full(shape, 0.0f);
}
Tensor Tensor::ones(const Shape& shape) {
  return full(shape, 1.0f);
}
Tensor Tensor::scalar(float value) {
  return full({}, value);
}

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(shape);
  std::fill_n(t.data(), t.numel(), value);
  return t;
}

Tensor Tensor::arange(float start, float end, float step) {
  MMX_CHECK(step != 0.0f, "arange: step must not be 0");
  const double count = std::ceil((static_cast<double>(end) - start) / step);
  Tensor t = empty({static_cast<int64_t>(std::max(count, 0.0))});
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = start + step * static_cast<float>(i);
  return t;
}

Tensor Tensor::randn(const Shape& shape, Generator& gen, float mean, float std) {
  Tensor t = empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = mean + std * gen.normal();
  return t;
}

Tensor Tensor::uniform(const Shape& shape, Generator& gen, float low, float high) {
  Tensor t = empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = low + (high - low) * gen.uniform();
  return t;
}

Tensor Tensor::from_data(const std::vector<float>& values, const Shape& shape) {
  MMX_CHECK(static_cast<int64_t>(values.size()) == mmx::numel(shape), "from_data: ", values.size(),
            " values do not fill shape ", mmx::to_string(shape));
  Tensor t = empty(shape);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

Tensor Tensor::view_of(const Tensor& base, const Shape& shape, const Shape& strides,
                       int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.checked().storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  return Tensor(std::move(impl));
}

// ---------------------------------------------------------------- metadata

const TensorImpl& Tensor::checked() const {
  if (!impl_) throw Error("tensor: use of an undefined tensor");
  return *impl_;
}

const Shape& Tensor::shape() const {
  return checked().shape;
}
const Shape& Tensor::strides() const {
  return checked().strides;
}
int64_t Tensor::offset() const {
  return checked().offset;
}
int64_t Tensor::numel() const {
  return mmx::numel(shape());
}

int64_t Tensor::size(int64_t axis) const {
  return shape()[wrap_axis(axis, dim(), "size")];
}

bool Tensor::is_contiguous() const {
  const Shape& sh = shape();
  const Shape& st = strides();
  int64_t expected = 1;
  for (size_t i = sh.size(); i-- > 0;) {
    if (sh[i] == 1) continue;  // the stride of a size-1 axis never matters
    if (st[i] != expected) return false;
    expected *= sh[i];
  }
  return true;
}

bool Tensor::shares_storage(const Tensor& other) const {
  return defined() && other.defined() && impl_->storage == other.impl_->storage;
}

// ---------------------------------------------------------------- data access

float* Tensor::data() {
  const TensorImpl& i = checked();
  return i.storage->data + i.offset;
}
const float* Tensor::data() const {
  const TensorImpl& i = checked();
  return i.storage->data + i.offset;
}

float Tensor::item() const {
  MMX_CHECK(numel() == 1, "item: tensor of shape ", mmx::to_string(shape()), " has ", numel(),
            " elements, not 1");
  return *data();
}

namespace {
int64_t element_offset(const Tensor& t, std::initializer_list<int64_t> index) {
  MMX_CHECK(static_cast<int64_t>(index.size()) == t.dim(), "at: ", index.size(), " indices for a ",
            t.dim(), "-d tensor of shape ", to_string(t.shape()));
  int64_t off = 0, axis = 0;
  for (int64_t i : index) {
    MMX_CHECK(i >= 0 && i < t.shape()[axis], "at: index ", i, " out of range for axis ", axis,
              " of shape ", to_string(t.shape()));
    off += i * t.strides()[axis++];
  }
  return off;
}

}  // namespace

float Tensor::at(std::initializer_list<int64_t> index) const {
  return data()[element_offset(*this, index)];
}

void Tensor::set(std::initializer_list<int64_t> index, float value) {
  data()[element_offset(*this, index)] = value;
  bump_version();
}

std::vector<float> Tensor::to_vector() const {
  const float* p = data();
  // Why: the per-element offset walk costs ~10x a block copy; dense tensors are the usual case.
  if (is_contiguous()) return std::vector<float>(p, p + numel());
  std::vector<float> out(static_cast<size_t>(numel()));
  copy_strided(*this, out.data());
  return out;
}

std::string Tensor::to_string(int max_per_axis) const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream out;
  out << std::setprecision(4);
  const std::vector<float> v = to_vector();
  const Shape& sh = shape();
  // Recursive printer over axes, eliding the middle of long axes with "...".
  std::function<void(size_t, int64_t)> print = [&](size_t axis, int64_t base) {
    if (axis == sh.size()) {
      out << v[static_cast<size_t>(base)];
      return;
    }
    const int64_t n = sh[axis];
    const int64_t inner = mmx::numel(Shape(sh.begin() + static_cast<long>(axis) + 1, sh.end()));
    out << '[';
    for (int64_t i = 0; i < n; ++i) {
      if (n > max_per_axis && i == max_per_axis / 2) {
        out << "..., ";
        i = n - max_per_axis / 2 - 1;
        continue;
      }
      print(axis + 1, base + i * inner);
      if (i + 1 < n) out << (axis + 1 == sh.size() ? ", " : ",\n ");
    }
    out << ']';
  };
  out << "Tensor(";
  print(0, 0);
  out << ", shape=" << mmx::to_string(sh);
  if (requires_grad()) out << ", requires_grad";
  out << ')';
  return out.str();
}

std::ostream& operator<<(std::ostream& out, const Tensor& t) {
  return out << t.to_string();
}

// ---------------------------------------------------------------- in-place

void Tensor::bump_version() {
  ++checked().storage->version;
}
uint64_t Tensor::version() const {
  return checked().storage->version;
}

Tensor& Tensor::fill_(float value) {
  float* p = data();
  for_each_offset(shape(), strides(), [&](int64_t off) { p[off] = value; });
  bump_version();
  return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
  MMX_CHECK(src.shape() == shape(), "copy_: shape ", mmx::to_string(src.shape()), " into ",
            mmx::to_string(shape()));
  float* p = data();
  // Why: copies into gradient windows and the tape's dense copies of transposed gradients run
  // every training step; a dense pair is one memmove (overlap-safe), a dense destination takes
  // the row-wise strided copy kernel, and a source in other storage needs no temporary.
  if (is_contiguous() && src.is_contiguous()) {
    std::memmove(p, src.data(), static_cast<size_t>(numel()) * sizeof(float));
  } else if (is_contiguous() && !shares_storage(src)) {
    copy_strided(src, p);
  } else if (!shares_storage(src) && src.is_contiguous()) {
    // A dense source into a window (slice's backward, a KV cache): row by row, one memcpy per
    // row when the window's rows are dense (a 0-d tensor is contiguous, so rank >= 1 here).
    const float* v = src.data();
    const Shape& sh = shape();
    const int64_t cols = sh.back();
    const int64_t col_stride = strides().back();
    const Shape outer_shape(sh.begin(), sh.end() - 1);
    const Shape outer_strides(strides().begin(), strides().end() - 1);
    int64_t row = 0;
    for_each_offset(outer_shape, outer_strides, [&](int64_t off) {
      const float* in = v + row++ * cols;
      if (col_stride == 1) {
        std::memcpy(p + off, in, static_cast<size_t>(cols) * sizeof(float));
      } else {
        for (int64_t c = 0; c < cols; ++c) p[off + c * col_stride] = in[c];
      }
    });
  } else {
    const std::vector<float> v = src.to_vector();  // safe even when src overlaps this
    size_t k = 0;
    for_each_offset(shape(), strides(), [&](int64_t off) { p[off] = v[k++]; });
  }
  bump_version();
  return *this;
}

Tensor& Tensor::add_(const Tensor& other, float alpha) {
  MMX_CHECK(other.shape() == shape(), "add_: shape ", mmx::to_string(other.shape()), " into ",
            mmx::to_string(shape()));
  float* p = data();
  // Why: optimizers and gradient sums call this per parameter per step. Dense operands that do
  // not overlap (or are the very same elements) take a vectorised loop.
  if (is_contiguous() && other.is_contiguous() && (!shares_storage(other) || other.data() == p)) {
    const float* v = other.data();
    const int64_t n = numel();
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) p[i] += alpha * v[i];
  } else {
    const std::vector<float> v = other.to_vector();
    size_t k = 0;
    for_each_offset(shape(), strides(), [&](int64_t off) { p[off] += alpha * v[k++]; });
  }
  bump_version();
  return *this;
}

// ---------------------------------------------------------------- autograd

AutogradMeta& Tensor::autograd() const {
  const TensorImpl& i = checked();
  if (!i.autograd) {
    impl_->autograd = std::make_shared<AutogradMeta>();
    impl_->autograd->shape = i.shape;
  }
  return *impl_->autograd;
}

Tensor& Tensor::requires_grad_(bool on) {
  MMX_CHECK(is_leaf() || on,
            "requires_grad_: only leaf tensors can stop requiring grad; use detach()");
  autograd().requires_grad = on;
  return *this;
}

bool Tensor::requires_grad() const {
  return defined() && impl_->autograd && impl_->autograd->requires_grad;
}

bool Tensor::is_leaf() const {
  return !impl_ || !impl_->autograd || impl_->autograd->is_leaf();
}

Tensor Tensor::grad() const {
  return impl_ && impl_->autograd ? impl_->autograd->grad : Tensor();
}

void Tensor::set_grad(const Tensor& g) {
  MMX_CHECK(!g.defined() || g.shape() == shape(), "set_grad: gradient shape ",
            mmx::to_string(g.shape()), " differs from tensor shape ", mmx::to_string(shape()));
  autograd().grad = g;
}

void Tensor::zero_grad() {
  if (impl_ && impl_->autograd) impl_->autograd->grad = Tensor();
}

void Tensor::retain_grad() {
  autograd().retains_grad = true;
}

Tensor Tensor::detach() const {
  const TensorImpl& i = checked();
  return view_of(*this, i.shape, i.strides, i.offset);
}

}  // namespace mmx
