#include "engine/error.hpp"
#include "engine/kernels/dnnl/dnnl_context.hpp"
#include "engine/kernels/dnnl/dnnl_kernels.hpp"

namespace mmx::kernels {

namespace {

dnnl::algorithm binary_algorithm(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return dnnl::algorithm::binary_add;
    case BinaryOp::Sub: return dnnl::algorithm::binary_sub;
    case BinaryOp::Mul: return dnnl::algorithm::binary_mul;
    case BinaryOp::Div: return dnnl::algorithm::binary_div;
  }
  throw Error("dnnl_binary: unknown op");
}

// `t` seen as a dense tensor of `out_shape` with every broadcast axis (missing, size 1 or an
// expanded stride-0 axis) of size 1: the form in which oneDNN broadcasts src1. Undefined when
// the rest is not dense. A 0-d output is a [1], as oneDNN wants at least one dimension.
Tensor dense_operand(const Tensor& t, const Shape& out_shape) {
  const Shape strides = broadcast_strides(t, out_shape);
  Shape shape(out_shape.size());
  for (size_t d = 0; d < out_shape.size(); ++d) shape[d] = strides[d] == 0 ? 1 : out_shape[d];
  if (!Tensor::view_of(t, shape, strides, t.offset()).is_contiguous()) return Tensor();
  if (shape.empty()) shape = {1};
  return Tensor::view_of(t, shape, contiguous_strides(shape), t.offset());
}

}  // namespace

Tensor dnnl_binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const Shape out_shape = broadcast_shapes(a.shape(), b.shape(), binary_op_name(op));
  const Tensor src0 = dense_operand(a, out_shape);
  const Tensor src1 = dense_operand(b, out_shape);
  const Shape dst_shape = out_shape.empty() ? Shape{1} : out_shape;
  if (!src0.defined() || !src1.defined() || src0.shape() != dst_shape) return Tensor();
  Tensor out = Tensor::empty(out_shape);
  if (out.numel() == 0) return out;
  const Tensor dst = Tensor::view_of(out, dst_shape, contiguous_strides(dst_shape), 0);

  using namespace dnnl_backend;
  const std::string key =
      std::string("binary:") + binary_op_name(op) + ":" + layout_key(src0) + ":" + layout_key(src1);
  dnnl::primitive& prim = cached_primitive(key, [&] {
    const dnnl::binary::desc desc(binary_algorithm(op), memory_desc(src0), memory_desc(src1),
                                  memory_desc(dst));
    return dnnl::binary(dnnl::binary::primitive_desc(desc, cpu_engine()));
  });
  prim.execute(cpu_stream(), {{DNNL_ARG_SRC_0, memory_of(src0)},
                              {DNNL_ARG_SRC_1, memory_of(src1)},
                              {DNNL_ARG_DST, memory_of(dst)}});
  cpu_stream().wait();
  return out;
}

}  // namespace mmx::kernels
