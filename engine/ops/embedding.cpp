// embedding: rows of a [vocab, d] weight picked by integer ids. The backward scatter-adds the
// output gradient into a [vocab, d] weight gradient (a repeated id gets the sum).
#include "engine/kernels/embedding.hpp"
#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/ops.hpp"

namespace mmx {

Tensor embedding(const Tensor& weight, const std::vector<int64_t>& ids, const Shape& ids_shape) {
  MMX_CHECK(weight.dim() == 2, "embedding: weight must be [vocab, d], got ",
            to_string(weight.shape()));
  MMX_CHECK(static_cast<int64_t>(ids.size()) == numel(ids_shape), "embedding: ", ids.size(),
            " ids do not fill ids shape ", to_string(ids_shape));
  const int64_t vocab = weight.size(0), d = weight.size(1);
  for (int64_t id : ids)
    MMX_CHECK(id >= 0 && id < vocab, "embedding: id ", id, " out of range for vocab size ", vocab,
              " (weight ", to_string(weight.shape()), ")");
  Shape out_shape = ids_shape;
  out_shape.push_back(d);
  const Tensor rows = kernels::embedding_forward(weight, ids);
  Tensor y = Tensor::view_of(rows, out_shape, contiguous_strides(out_shape), rows.offset());
  if (autograd::needs_grad({weight}))
    autograd::record("embedding", {weight}, y, {}, [ids, vocab, d](const Tensor& gy) {
      const Tensor gy_rows =
          Tensor::view_of(gy, {static_cast<int64_t>(ids.size()), d}, {d, 1}, gy.offset());
      return std::vector<Tensor>{kernels::embedding_backward(gy_rows, ids, vocab)};
    });
  return y;
}

}  // namespace mmx
