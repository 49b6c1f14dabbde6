// softmax and log-softmax over the last axis on oneDNN's softmax / logsoftmax primitives,
// forward and backward. The two share every line but the primitive type.
#include <string>

#include "engine/kernels/dnnl/dnnl_context.hpp"
#include "engine/kernels/dnnl/dnnl_kernels.hpp"
#include "engine/kernels/elementwise.hpp"

namespace mmx::kernels {

namespace {

using dnnl_backend::cached_primitive;
using dnnl_backend::cpu_engine;
using dnnl_backend::cpu_stream;
using dnnl_backend::memory_desc;
using dnnl_backend::memory_of;

// Forward (x checked by kernels/softmax.cpp): Fwd is dnnl::softmax_forward or
// dnnl::logsoftmax_forward.
template <typename Fwd>
Tensor normalize_forward(const char* name, const Tensor& x) {
  Tensor y = Tensor::empty(x.shape());
  if (x.numel() == 0) return y;
  // The 2.x softmax takes one descriptor for src and dst: read x densely, as y is written.
  const Tensor xd = contiguous_copy(x);
  const int axis = static_cast<int>(x.dim()) - 1;
  const dnnl::memory::desc md = memory_desc(y);
  const std::string key = std::string(name) + "_fwd;" + dnnl_backend::layout_key(y);
  dnnl::primitive& p = cached_primitive(key, [&] {
    typename Fwd::desc desc(dnnl::prop_kind::forward_training, md, axis);
    return Fwd(typename Fwd::primitive_desc(desc, cpu_engine()));
  });
  p.execute(cpu_stream(), {{DNNL_ARG_SRC, memory_of(xd, md)}, {DNNL_ARG_DST, memory_of(y, md)}});
  cpu_stream().wait();
  return y;
}

// Backward from the forward's output y and the incoming gradient gy (same shape, checked).
template <typename Fwd, typename Bwd>
Tensor normalize_backward(const char* name, const Tensor& y, const Tensor& gy) {
  const Tensor yd = contiguous_copy(y);
  const Tensor gyd = contiguous_copy(gy);
  Tensor gx = Tensor::empty(y.shape());
  if (y.numel() == 0) return gx;
  const int axis = static_cast<int>(y.dim()) - 1;
  const dnnl::memory::desc md = memory_desc(gx);
  const std::string key = std::string(name) + "_bwd;" + dnnl_backend::layout_key(gx);
  dnnl::primitive& p = cached_primitive(key, [&] {
    typename Fwd::desc fwd_desc(dnnl::prop_kind::forward_training, md, axis);
    typename Fwd::primitive_desc fwd_pd(fwd_desc, cpu_engine());
    typename Bwd::desc desc(md, md, axis);
    return Bwd(typename Bwd::primitive_desc(desc, cpu_engine(), fwd_pd));
  });
  p.execute(cpu_stream(), {{DNNL_ARG_DST, memory_of(yd, md)},
                           {DNNL_ARG_DIFF_DST, memory_of(gyd, md)},
                           {DNNL_ARG_DIFF_SRC, memory_of(gx, md)}});
  cpu_stream().wait();
  return gx;
}

}  // namespace

Tensor dnnl_softmax_forward(const Tensor& x) {
  return normalize_forward<dnnl::softmax_forward>("softmax", x);
}

Tensor dnnl_softmax_backward(const Tensor& y, const Tensor& gy) {
  return normalize_backward<dnnl::softmax_forward, dnnl::softmax_backward>("softmax", y, gy);
}

Tensor dnnl_log_softmax_forward(const Tensor& x) {
  return normalize_forward<dnnl::logsoftmax_forward>("log_softmax", x);
}

Tensor dnnl_log_softmax_backward(const Tensor& y, const Tensor& gy) {
  return normalize_backward<dnnl::logsoftmax_forward, dnnl::logsoftmax_backward>("log_softmax", y,
                                                                                 gy);
}

}  // namespace mmx::kernels
