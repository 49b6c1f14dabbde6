#include "engine/kernels/dnnl/dnnl_bf16_operands.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "engine/error.hpp"
#include "engine/kernels/bf16_pairs.hpp"
#include "engine/kernels/dnnl/dnnl_context.hpp"
#include "engine/kernels/kept_copies.hpp"
#include "engine/parallel_region.hpp"

namespace mmx::dnnl_backend {

namespace {

using dnnl::memory;

thread_local int64_t conversions = 0;

// Dense strides for `dims` in the axis order of `strides` (largest stride outermost; ties keep
// the axis order).
Shape dense_strides_in_order(const Shape& dims, const Shape& strides) {
  std::vector<size_t> order(dims.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return strides[x] > strides[y]; });
  Shape dense(dims.size(), 1);
  int64_t next = 1;
  for (size_t i = order.size(); i-- > 0;) {
    dense[order[i]] = next;
    next *= dims[order[i]];
  }
  return dense;
}

// Whether the elements fill [0, numel) exactly: some axis order is row-major (size-1 axes, whose
// stride is never used, aside).
bool dense_in_some_order(const Shape& dims, const Shape& strides) {
  std::vector<size_t> axes;
  for (size_t d = 0; d < dims.size(); ++d)
    if (dims[d] > 1) axes.push_back(d);
  std::sort(axes.begin(), axes.end(), [&](size_t x, size_t y) { return strides[x] < strides[y]; });
  int64_t expected = 1;
  for (size_t d : axes) {
    if (strides[d] != expected) return false;
    expected *= dims[d];
  }
  return true;
}

// Below this many floats a parallel region costs more than it saves.
constexpr int64_t kParallelMinFloats = int64_t{1} << 15;

// Rounds `count` floats from `from` into `to`, 16 at a time (one instruction where the CPU has
// AVX512-BF16), then the last few one by one. oneDNN's flat reorder did the same rounding 1.45x
// slower than a plain loop of to_bf16 (2M floats, 2 threads: 258 against 178 us).
void convert_flat(const float* from, uint16_t* to, int64_t count) {
  ++conversions;
  const int64_t vectors = count / kernels::kVecLanes;
  parallel_region(count >= kParallelMinFloats, [&] {
#pragma omp for schedule(static)
    for (int64_t v = 0; v < vectors; ++v) {
      const int64_t i = v * kernels::kVecLanes;
      kernels::store_bf16(to + i, kernels::to_bf16x16(kernels::load(from + i)));
    }
  });
  for (int64_t i = vectors * kernels::kVecLanes; i < count; ++i) to[i] = kernels::to_bf16(from[i]);
}

// The bf16 copy of the `count` floats from t.data(), kept until t's storage version changes.
const uint16_t* kept_bf16_copy(const Tensor& t, int64_t count) {
  thread_local kernels::KeptCopies<int64_t, std::unique_ptr<uint16_t[]>> kept;
  // Not zeroed when made: the conversion writes all of it (a std::vector's zero fill of the
  // inputs and output gradients a small bf16 step converts afresh, ~96 MB, ran on one thread
  // while the others waited).
  const auto make = [&] {
    return std::make_unique_for_overwrite<uint16_t[]>(static_cast<size_t>(count));
  };
  const auto convert = [&](std::unique_ptr<uint16_t[]>& bits) {
    convert_flat(t.data(), bits.get(), count);
  };
  return kernels::kept_copy(kept, t, count, make, convert).get();
}

// A scratch buffer for one operand slot, and what its bits are a flat copy of, if anything, so
// that bf16_bits finds them there again.
struct ScratchSlot {
  std::vector<uint16_t> bits;
  std::weak_ptr<const Storage> storage;
  const float* start = nullptr;
  int64_t count = 0;
  uint64_t version = 0;

  bool holds(const Tensor& t, int64_t n) const {
    return start == t.data() && count == n && version == t.version() && !storage.expired() &&
           kernels::same_storage(storage, t.weak_storage());
  }
  void remember(const Tensor& t, int64_t n) {
    storage = t.weak_storage();
    start = t.data();
    count = n;
    version = t.version();
  }
  void forget() { storage.reset(); }
};

ScratchSlot& scratch_slot(int slot) {
  thread_local ScratchSlot scratch[2];
  return scratch[slot];
}

}  // namespace

memory::desc bf16_operand_desc(const Shape& dims, const Shape& strides) {
  const Shape bf16_strides =
      dense_in_some_order(dims, strides) ? strides : dense_strides_in_order(dims, strides);
  return memory::desc(memory::dims(dims.begin(), dims.end()), memory::data_type::bf16,
                      memory::dims(bf16_strides.begin(), bf16_strides.end()));
}

dnnl::memory bf16_operand(const Tensor& t, const Shape& dims, const Shape& strides, int slot,
                          bool keep) {
  const memory::desc desc = bf16_operand_desc(dims, strides);
  const int64_t count = numel(dims);
  const bool flat = dense_in_some_order(dims, strides);
  if (flat && keep) {
    return memory(desc, cpu_engine(), const_cast<uint16_t*>(kept_bf16_copy(t, count)));
  }
  ScratchSlot& scratch = scratch_slot(slot);
  std::vector<uint16_t>& buffer = scratch.bits;
  if (buffer.size() < static_cast<size_t>(count)) buffer.resize(count);
  if (flat) {
    convert_flat(t.data(), buffer.data(), count);
    scratch.remember(t, count);
  } else {
    scratch.forget();
    ++conversions;
    std::string key = "to_bf16;";
    for (int64_t v : dims) key += cat(v, ',');
    for (int64_t v : strides) key += cat(v, ',');
    const memory::desc from = memory_desc(dims, strides);
    dnnl::primitive& reorder = cached_reorder(
        key, from, desc, "matmul: oneDNN cannot convert to bf16", "use fp32 precision");
    memory src = memory_of(t, from);
    memory dst(desc, cpu_engine(), buffer.data());
    reorder.execute(cpu_stream(), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}});
  }
  return memory(desc, cpu_engine(), buffer.data());
}

const uint16_t* bf16_bits(const Tensor& t, int slot, bool keep) {
  const ScratchSlot& scratch = scratch_slot(slot);
  if (!keep && scratch.holds(t, t.numel())) return scratch.bits.data();
  const memory bits = bf16_operand(t, t.shape(), t.strides(), slot, keep);
  return static_cast<const uint16_t*>(bits.get_data_handle());
}

int64_t bf16_conversions() {
  return conversions;
}

}  // namespace mmx::dnnl_backend
