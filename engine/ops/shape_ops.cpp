// Shape ops: views that share storage (reshape of contiguous data, permute, transpose, slice,
// expand) and the copies (contiguous, cat). Backward of a view is the inverse view of the
// gradient; backward of expand is a sum, which the tape's sum_to_shape does for us.
#include <numeric>

#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/ops.hpp"
#include "engine/strided_copy.hpp"

namespace mmx {

namespace {
Shape resolve_reshape(const Shape& target, int64_t count, const Shape& from) {
  Shape out = target;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      MMX_CHECK(infer < 0, "reshape: more than one -1 in ", to_string(target));
      infer = static_cast<int64_t>(i);
    } else {
      MMX_CHECK(out[i] >= 0, "reshape: negative size in ", to_string(target));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    MMX_CHECK(known > 0 && count % known == 0, "reshape: cannot reshape ", to_string(from),
              " into ", to_string(target));
    out[static_cast<size_t>(infer)] = count / known;
  }
  MMX_CHECK(numel(out) == count, "reshape: cannot reshape ", to_string(from), " (", count,
            " elements) into ", to_string(target));
  return out;
}
}  // namespace

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  Tensor y = Tensor::empty(x.shape());
  copy_strided(x, y.data());
  if (autograd::needs_grad({x}))
    autograd::record("contiguous", {x}, y, {},
                     [](const Tensor& gy) { return std::vector<Tensor>{gy}; });
  return y;
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  const Shape target = resolve_reshape(shape, x.numel(), x.shape());
  const Tensor dense = contiguous(x);  // a view when x is already contiguous
  Tensor y = Tensor::view_of(dense, target, contiguous_strides(target), dense.offset());
  if (autograd::needs_grad({dense})) {
    const Shape from = dense.shape();
    autograd::record("reshape", {dense}, y, {}, [from](const Tensor& gy) {
      return std::vector<Tensor>{Tensor::view_of(gy, from, contiguous_strides(from), gy.offset())};
    });
  }
  return y;
}

Tensor permute(const Tensor& x, const Shape& axes) {
  const int64_t dim = x.dim();
  MMX_CHECK(static_cast<int64_t>(axes.size()) == dim, "permute: ", axes.size(),
            " axes for a tensor of shape ", to_string(x.shape()));
  Shape shape(axes.size()), strides(axes.size()), inverse(axes.size());
  std::vector<bool> seen(axes.size(), false);
  for (size_t i = 0; i < axes.size(); ++i) {
    const int64_t a = wrap_axis(axes[i], dim, "permute");
    MMX_CHECK(!seen[static_cast<size_t>(a)], "permute: axis ", a, " repeated in ", to_string(axes));
    seen[static_cast<size_t>(a)] = true;
    shape[i] = x.shape()[static_cast<size_t>(a)];
    strides[i] = x.strides()[static_cast<size_t>(a)];
    inverse[static_cast<size_t>(a)] = static_cast<int64_t>(i);
  }
  Tensor y = Tensor::view_of(x, shape, strides, x.offset());
  if (autograd::needs_grad({x}))
    autograd::record("permute", {x}, y, {}, [inverse](const Tensor& gy) {
      return std::vector<Tensor>{permute(gy, inverse)};
    });
  return y;
}

Tensor transpose(const Tensor& x, int64_t a, int64_t b) {
  Shape axes(static_cast<size_t>(x.dim()));
  std::iota(axes.begin(), axes.end(), 0);
  std::swap(axes[static_cast<size_t>(wrap_axis(a, x.dim(), "transpose"))],
            axes[static_cast<size_t>(wrap_axis(b, x.dim(), "transpose"))]);
  return permute(x, axes);
}

Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end) {
  const int64_t ax = wrap_axis(axis, x.dim(), "slice");
  const int64_t n = x.shape()[static_cast<size_t>(ax)];
  MMX_CHECK(0 <= start && start <= end && end <= n, "slice: range [", start, ", ", end,
            ") out of bounds for axis ", ax, " of shape ", to_string(x.shape()));
  Shape shape = x.shape();
  shape[static_cast<size_t>(ax)] = end - start;
  Tensor y = Tensor::view_of(x, shape, x.strides(),
                             x.offset() + start * x.strides()[static_cast<size_t>(ax)]);
  // Backward: the tape adds y's gradient into this window of x's gradient.
  if (autograd::needs_grad({x})) autograd::record_window("slice", x, y, ax, start);
  return y;
}

Tensor expand(const Tensor& x, const Shape& shape) {
  MMX_CHECK(shape.size() >= x.shape().size(), "expand: cannot expand ", to_string(x.shape()),
            " to fewer dims ", to_string(shape));
  const size_t lead = shape.size() - x.shape().size();
  Shape strides(shape.size(), 0);
  for (size_t d = 0; d < x.shape().size(); ++d) {
    const int64_t from = x.shape()[d], to = shape[lead + d];
    MMX_CHECK(from == to || from == 1, "expand: cannot expand ", to_string(x.shape()), " to ",
              to_string(shape));
    strides[lead + d] = from == to ? x.strides()[d] : 0;
  }
  Tensor y = Tensor::view_of(x, shape, strides, x.offset());
  if (autograd::needs_grad({x}))
    autograd::record("expand", {x}, y, {}, [](const Tensor& gy) {
      return std::vector<Tensor>{gy};  // the tape sums it back to x's shape
    });
  return y;
}

Tensor cat(const std::vector<Tensor>& xs, int64_t axis) {
  MMX_CHECK(!xs.empty(), "cat: no tensors given");
  const int64_t ax = wrap_axis(axis, xs[0].dim(), "cat");
  Shape shape = xs[0].shape();
  shape[static_cast<size_t>(ax)] = 0;
  for (const Tensor& t : xs) {
    bool same = t.dim() == xs[0].dim();
    for (int64_t d = 0; same && d < t.dim(); ++d)
      same = d == ax || t.shape()[static_cast<size_t>(d)] == xs[0].shape()[static_cast<size_t>(d)];
    MMX_CHECK(same, "cat: shapes ", to_string(xs[0].shape()), " and ", to_string(t.shape()),
              " differ outside axis ", ax);
    shape[static_cast<size_t>(ax)] += t.shape()[static_cast<size_t>(ax)];
  }
  Tensor y = Tensor::empty(shape);
  std::vector<int64_t> starts;
  int64_t start = 0;
  for (const Tensor& t : xs) {
    starts.push_back(start);
    Tensor window =
        Tensor::view_of(y, t.shape(), y.strides(), start * y.strides()[static_cast<size_t>(ax)]);
    window.copy_(t);
    start += t.shape()[static_cast<size_t>(ax)];
  }
  if (autograd::needs_grad(xs)) {
    std::vector<int64_t> sizes;
    for (const Tensor& t : xs) sizes.push_back(t.shape()[static_cast<size_t>(ax)]);
    autograd::record("cat", xs, y, {}, [ax, starts, sizes](const Tensor& gy) {
      std::vector<Tensor> grads;
      for (size_t i = 0; i < sizes.size(); ++i)
        grads.push_back(slice(gy, ax, starts[i], starts[i] + sizes[i]));
      return grads;
    });
  }
  return y;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis) {
  const int64_t ax = wrap_axis(axis, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    MMX_CHECK(s >= 0, "split: negative size in split of ", to_string(x.shape()));
    total += s;
  }
  MMX_CHECK(total == x.shape()[static_cast<size_t>(ax)], "split: sizes sum to ", total,
            " but axis ", ax, " of ", to_string(x.shape()), " has ",
            x.shape()[static_cast<size_t>(ax)]);
  std::vector<Tensor> parts;
  int64_t start = 0;
  for (int64_t s : sizes) {
    parts.push_back(slice(x, ax, start, start + s));
    start += s;
  }
  return parts;
}

}  // namespace mmx
