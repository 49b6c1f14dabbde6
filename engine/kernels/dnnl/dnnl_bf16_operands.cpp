#include "engine/kernels/dnnl/dnnl_bf16_operands.hpp"

#include <omp.h>

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

// convert_flat of a dense [rows, cols] matrix that also sums its columns into `sums`: each
// thread sums its own rows, then the threads' sums are added in thread order. A linear layer's
// bias gradient is the column sums of the output gradient it converts anyway: a separate sum
// read those 0.5-2M floats again, ~1.7% of a small bf16 step's samples.
void convert_summing_columns(const float* from, uint16_t* to, int64_t rows, int64_t cols,
                             float* sums) {
  ++conversions;
  std::vector<float> partials;  // [threads, cols]
  parallel_region(rows * cols >= kParallelMinFloats, [&] {
    const int64_t threads = omp_get_num_threads(), me = omp_get_thread_num();
#pragma omp single
    partials.assign(static_cast<size_t>(threads * cols), 0.0f);
    float* mine = partials.data() + me * cols;
    const int64_t whole = cols / kernels::kVecLanes * kernels::kVecLanes;
    for (int64_t r = rows * me / threads; r < rows * (me + 1) / threads; ++r) {
      const float* row = from + r * cols;
      uint16_t* out = to + r * cols;
      for (int64_t c = 0; c < whole; c += kernels::kVecLanes) {
        const kernels::Vec x = kernels::load(row + c);
        kernels::store_bf16(out + c, kernels::to_bf16x16(x));
        kernels::store(mine + c, kernels::load(mine + c) + x);
      }
      for (int64_t c = whole; c < cols; ++c) {
        out[c] = kernels::to_bf16(row[c]);
        mine[c] += row[c];
      }
    }
#pragma omp barrier
#pragma omp for schedule(static)
    for (int64_t c = 0; c < cols; ++c) {
      float sum = 0.0f;
      for (int64_t t = 0; t < threads; ++t) sum += partials[static_cast<size_t>(t * cols + c)];
      sums[c] = sum;
    }
  });
}

using KeptBf16 = kernels::KeptCopies<int64_t, std::unique_ptr<uint16_t[]>>;

// One store for every caller below (a thread_local in the template would be one per Convert).
KeptBf16& kept_bf16() {
  thread_local KeptBf16 kept;
  return kept;
}

// The bf16 copy of the `count` floats from t.data(), kept until t's storage version changes;
// `convert(bits)` fills it when it is new or stale.
template <typename Convert>
const uint16_t* kept_bf16_copy(const Tensor& t, int64_t count, const Convert& convert) {
  // Not zeroed when made: the conversion writes all of it (a std::vector's zero fill of the
  // inputs and output gradients a small bf16 step converts afresh, ~96 MB, ran on one thread
  // while the others waited).
  const auto make = [&] {
    return std::make_unique_for_overwrite<uint16_t[]>(static_cast<size_t>(count));
  };
  const auto fill = [&](std::unique_ptr<uint16_t[]>& bits) { convert(bits.get()); };
  return kernels::kept_copy(kept_bf16(), t, count, make, fill).get();
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

// t's kept copy, copied from a scratch slot when the product just before converted t there (a
// linear layer's input, kept for its weight's gradient): half the bytes of a conversion's reads.
const uint16_t* kept_bf16_copy(const Tensor& t, int64_t count) {
  return kept_bf16_copy(t, count, [&](uint16_t* bits) {
    for (int slot : {0, 1}) {
      const ScratchSlot& scratch = scratch_slot(slot);
      if (!scratch.holds(t, count)) continue;
      std::copy_n(scratch.bits.data(), count, bits);
      return;
    }
    convert_flat(t.data(), bits, count);
  });
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

bool keep_bf16_summing_columns(const Tensor& t, float* sums) {
  const int64_t rows = t.size(0), cols = t.size(1);
  bool summed = false;
  kept_bf16_copy(t, t.numel(), [&](uint16_t* bits) {
    convert_summing_columns(t.data(), bits, rows, cols, sums);
    summed = true;
  });
  return summed;
}

int64_t bf16_conversions() {
  return conversions;
}

}  // namespace mmx::dnnl_backend
