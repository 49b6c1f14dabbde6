#include "engine/kernels/reduce.hpp"

#include <algorithm>
#include <vector>

#include "engine/error.hpp"
#include "engine/parallel_region.hpp"

namespace mmx::kernels {

namespace {

constexpr int64_t kParallelMinElements = 1 << 15;

bool contains(const std::vector<int64_t>& axes, int64_t axis) {
  return std::find(axes.begin(), axes.end(), axis) != axes.end();
}

// Splits a view's axes into kept and reduced ones, each with its sizes and strides.
struct AxisSplit {
  Shape kept_shape, kept_strides, reduced_shape, reduced_strides;
};

AxisSplit split_axes(const Tensor& x, const std::vector<int64_t>& axes) {
  AxisSplit s;
  for (int64_t d = 0; d < x.dim(); ++d) {
    const bool reduced = contains(axes, d);
    (reduced ? s.reduced_shape : s.kept_shape).push_back(x.shape()[d]);
    (reduced ? s.reduced_strides : s.kept_strides).push_back(x.strides()[d]);
  }
  return s;
}

}  // namespace

std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, const Shape& shape,
                                    const char* op) {
  const int64_t dim = static_cast<int64_t>(shape.size());
  std::vector<int64_t> out;
  if (axes.empty()) {
    for (int64_t d = 0; d < dim; ++d) out.push_back(d);
    return out;
  }
  for (int64_t a : axes) {
    MMX_CHECK(a >= -dim && a < dim, op, ": axis ", a, " out of range for a ", dim,
              "-d tensor of shape ", to_string(shape));
    const int64_t w = a < 0 ? a + dim : a;
    MMX_CHECK(!contains(out, w), op, ": axis ", a, " repeated for shape ", to_string(shape));
    out.push_back(w);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Shape reduced_shape(const Shape& shape, const std::vector<int64_t>& axes, bool keepdim) {
  Shape out;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (!contains(axes, d))
      out.push_back(shape[d]);
    else if (keepdim)
      out.push_back(1);
  }
  return out;
}

namespace {

// True when `axes` are 0..k-1 for some 0 < k < dim: a contiguous x is then [rows, cols] and
// the sum runs down its columns (a bias gradient, a batch mean).
bool reduces_leading_axes(const Tensor& x, const std::vector<int64_t>& axes) {
  if (axes.empty() || static_cast<int64_t>(axes.size()) >= x.dim()) return false;
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] != static_cast<int64_t>(i)) return false;
  return true;
}

// Adds whole rows so that memory is read in order (a per-column walk would stride through it).
// The rows go in fixed chunks of kRowChunk, each summed in order into a partial of its own; the
// partials are then added in chunk order. Threads split the (chunk, column block) pairs, so a
// bias gradient of 128 columns keeps both cores busy (split by columns alone, it ran on one),
// and the sums are the same for any thread count.
void sum_columns(const float* in, int64_t rows, int64_t cols, float* out) {
  constexpr int64_t kBlock = 256, kRowChunk = 256;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
  const int64_t chunks = std::max<int64_t>(1, (rows + kRowChunk - 1) / kRowChunk);
  // One chunk sums straight into `out`; more each into their row of `partials`.
  std::vector<float> partials(chunks > 1 ? static_cast<size_t>(chunks * cols) : 0);
  parallel_region(rows * cols >= kParallelMinElements, [&] {
#pragma omp for collapse(2)
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t begin = b * kBlock, end = std::min(cols, begin + kBlock);
        float* o = (chunks > 1 ? partials.data() + chunk * cols : out) + begin;
        std::fill(o, o + (end - begin), 0.0f);
        for (int64_t r = chunk * kRowChunk; r < std::min(rows, (chunk + 1) * kRowChunk); ++r) {
          const float* row = in + r * cols + begin;
#pragma omp simd
          for (int64_t c = 0; c < end - begin; ++c) o[c] += row[c];
        }
      }
    }
    if (chunks == 1) return;
#pragma omp for
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t begin = b * kBlock, end = std::min(cols, begin + kBlock);
      std::copy(partials.data() + begin, partials.data() + end, out + begin);
      for (int64_t chunk = 1; chunk < chunks; ++chunk) {
        const float* part = partials.data() + chunk * cols;
#pragma omp simd
        for (int64_t c = begin; c < end; ++c) out[c] += part[c];
      }
    }
  });
}

}  // namespace

// Each output element sums its own slice: outer reduced axes through for_each_offset, the
// innermost reduced axis as a SIMD loop (stride 1 when the last axis is reduced).
Tensor sum_forward(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  Tensor out = Tensor::empty(reduced_shape(x.shape(), axes, keepdim));
  if (x.is_contiguous() && reduces_leading_axes(x, axes)) {
    const int64_t cols = out.numel();
    sum_columns(x.data(), cols == 0 ? 0 : x.numel() / cols, cols, out.data());
    return out;
  }
  AxisSplit s = split_axes(x, axes);
  int64_t inner_n = 1, inner_stride = 0;
  if (!s.reduced_shape.empty()) {
    inner_n = s.reduced_shape.back();
    inner_stride = s.reduced_strides.back();
    s.reduced_shape.pop_back();
    s.reduced_strides.pop_back();
  }
  const float* in = x.data();
  float* o = out.data();
  const int64_t outputs = out.numel();
  parallel_region(x.numel() >= kParallelMinElements, [&] {
#pragma omp for
    for (int64_t k = 0; k < outputs; ++k) {
      const float* base = in + offset_of(k, s.kept_shape, s.kept_strides);
      float acc = 0.0f;
      for_each_offset(s.reduced_shape, s.reduced_strides, [&](int64_t off) {
        const float* row = base + off;
        float part = 0.0f;
        if (inner_stride == 1) {  // plain vector loads instead of gathers
#pragma omp simd reduction(+ : part)
          for (int64_t i = 0; i < inner_n; ++i) part += row[i];
        } else {
#pragma omp simd reduction(+ : part)
          for (int64_t i = 0; i < inner_n; ++i) part += row[i * inner_stride];
        }
        acc += part;
      });
      o[k] = acc;
    }
  });
  return out;
}

Tensor sum_forward_naive(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  Tensor out = Tensor::empty(reduced_shape(x.shape(), axes, keepdim));
  // Every input element adds into the output element whose index drops the reduced axes.
  Shape to_out(x.dim(), 0);
  const Shape keep = reduced_shape(x.shape(), axes, true);
  const Shape keep_strides = contiguous_strides(keep);
  for (int64_t d = 0; d < x.dim(); ++d) to_out[d] = contains(axes, d) ? 0 : keep_strides[d];
  std::vector<double> acc(static_cast<size_t>(out.numel()), 0.0);
  for (int64_t i = 0; i < x.numel(); ++i)
    acc[offset_of(i, x.shape(), to_out)] += x.data()[offset_of(i, x.shape(), x.strides())];
  for (size_t k = 0; k < acc.size(); ++k) out.data()[k] = static_cast<float>(acc[k]);
  return out;
}

MaxResult max_forward(const Tensor& x, int64_t axis, bool keepdim) {
  const AxisSplit s = split_axes(x, {axis});
  const int64_t n = x.shape()[axis], stride = x.strides()[axis];
  MMX_CHECK(n > 0, "max: axis ", axis, " of shape ", to_string(x.shape()), " is empty");
  MaxResult r{Tensor::empty(reduced_shape(x.shape(), {axis}, keepdim)), {}};
  const int64_t outputs = r.values.numel();
  r.indices.resize(static_cast<size_t>(outputs));
  const float* in = x.data();
  float* o = r.values.data();
  parallel_region(x.numel() >= kParallelMinElements, [&] {
#pragma omp for
    for (int64_t k = 0; k < outputs; ++k) {
      const float* row = in + offset_of(k, s.kept_shape, s.kept_strides);
      int64_t best = 0;
      for (int64_t i = 1; i < n; ++i)
        if (row[i * stride] > row[best * stride]) best = i;  // strict: the first maximum wins
      o[k] = row[best * stride];
      r.indices[static_cast<size_t>(k)] = best;
    }
  });
  return r;
}

MaxResult max_forward_naive(const Tensor& x, int64_t axis, bool keepdim) {
  MMX_CHECK(x.shape()[axis] > 0, "max: axis ", axis, " of shape ", to_string(x.shape()),
            " is empty");
  MaxResult r{Tensor::empty(reduced_shape(x.shape(), {axis}, keepdim)), {}};
  r.indices.assign(static_cast<size_t>(r.values.numel()), -1);
  const Shape keep_strides = contiguous_strides(reduced_shape(x.shape(), {axis}, true));
  Shape to_out = keep_strides;
  to_out[axis] = 0;
  const Shape axis_only = [&] {
    Shape a(x.dim(), 0);
    a[axis] = 1;
    return a;
  }();
  // Row-major order visits a slice's elements by increasing position along `axis`.
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t k = offset_of(i, x.shape(), to_out);
    const float v = x.data()[offset_of(i, x.shape(), x.strides())];
    int64_t& idx = r.indices[static_cast<size_t>(k)];
    if (idx < 0 || v > r.values.data()[k]) {
      r.values.data()[k] = v;
      idx = offset_of(i, x.shape(), axis_only);
    }
  }
  return r;
}

Tensor max_backward(const Tensor& grad_y, const std::vector<int64_t>& indices, const Shape& x_shape,
                    int64_t axis) {
  MMX_CHECK(grad_y.is_contiguous() && grad_y.numel() == static_cast<int64_t>(indices.size()),
            "max backward: gradient of shape ", to_string(grad_y.shape()), " for ", indices.size(),
            " maxima");
  Tensor grad_x = Tensor::zeros(x_shape);
  const Shape x_strides = contiguous_strides(x_shape);
  Shape kept_shape, kept_strides;
  for (int64_t d = 0; d < static_cast<int64_t>(x_shape.size()); ++d) {
    if (d == axis) continue;
    kept_shape.push_back(x_shape[d]);
    kept_strides.push_back(x_strides[d]);
  }
  const float* g = grad_y.data();
  float* gx = grad_x.data();
  for (size_t k = 0; k < indices.size(); ++k) {
    const int64_t base = offset_of(static_cast<int64_t>(k), kept_shape, kept_strides);
    gx[base + indices[k] * x_strides[axis]] = g[k];
  }
  return grad_x;
}

}  // namespace mmx::kernels
