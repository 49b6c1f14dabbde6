#include <bit>

#include "engine/error.hpp"
#include "engine/kernels/dnnl/dnnl_context.hpp"
#include "engine/kernels/dnnl/dnnl_kernels.hpp"

namespace mmx::kernels {

namespace {

// Our (kind, alpha, beta) in oneDNN's terms: its pow is alpha * x^beta.
struct EltwiseSpec {
  dnnl::algorithm algorithm;
  float alpha;
  float beta;
};

EltwiseSpec eltwise_spec(Eltwise kind, float alpha, float beta) {
  using dnnl::algorithm;
  switch (kind) {
    case Eltwise::Linear: return {algorithm::eltwise_linear, alpha, beta};
    case Eltwise::Exp: return {algorithm::eltwise_exp, 0.0f, 0.0f};
    case Eltwise::Log: return {algorithm::eltwise_log, 0.0f, 0.0f};
    case Eltwise::Sqrt: return {algorithm::eltwise_sqrt, 0.0f, 0.0f};
    case Eltwise::Pow: return {algorithm::eltwise_pow, 1.0f, alpha};
    case Eltwise::Tanh: return {algorithm::eltwise_tanh, 0.0f, 0.0f};
    case Eltwise::Relu: return {algorithm::eltwise_relu, alpha, 0.0f};
    case Eltwise::GeluTanh: return {algorithm::eltwise_gelu_tanh, 0.0f, 0.0f};
    case Eltwise::GeluExact: return {algorithm::eltwise_gelu_erf, 0.0f, 0.0f};
  }
  throw Error("dnnl_eltwise: unknown kind");
}

// Inputs are contiguous, so the shape alone fixes the layout. Canonical strides (not the
// view's, which may differ on size-1 axes) make src, dst and the cache key agree.
dnnl::memory::desc dense_desc(const Tensor& x) {
  return dnnl_backend::memory_desc(x.shape(), contiguous_strides(x.shape()));
}

// The bits of alpha/beta, so two nearby values never share a primitive.
std::string spec_key(const char* direction, Eltwise kind, const EltwiseSpec& spec,
                     const Tensor& x) {
  return cat("eltwise_", direction, ":", eltwise_name(kind), ":",
             std::bit_cast<uint32_t>(spec.alpha), ":", std::bit_cast<uint32_t>(spec.beta), ":",
             to_string(x.shape()));
}

dnnl::eltwise_forward::primitive_desc forward_pd(const EltwiseSpec& spec, const Tensor& x) {
  const dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_training, spec.algorithm,
                                         dense_desc(x), spec.alpha, spec.beta);
  return dnnl::eltwise_forward::primitive_desc(desc, dnnl_backend::cpu_engine());
}

void require_contiguous(const char* what, const Tensor& t) {
  MMX_CHECK(t.is_contiguous(), "dnnl_eltwise: ", what, " of shape ", to_string(t.shape()),
            " must be contiguous");
}

}  // namespace

Tensor dnnl_eltwise_forward(Eltwise kind, const Tensor& x, float alpha, float beta) {
  require_contiguous("input", x);
  Tensor y = Tensor::empty(x.shape());
  if (y.numel() == 0) return y;
  const EltwiseSpec spec = eltwise_spec(kind, alpha, beta);
  using namespace dnnl_backend;
  dnnl::primitive& prim = cached_primitive(
      spec_key("fwd", kind, spec, x), [&] { return dnnl::eltwise_forward(forward_pd(spec, x)); });
  const dnnl::memory::desc md = dense_desc(x);
  prim.execute(cpu_stream(), {{DNNL_ARG_SRC, memory_of(x, md)}, {DNNL_ARG_DST, memory_of(y, md)}});
  cpu_stream().wait();
  return y;
}

Tensor dnnl_eltwise_backward(Eltwise kind, const Tensor& x, const Tensor& grad_y, float alpha,
                             float beta) {
  require_contiguous("input", x);
  require_contiguous("gradient", grad_y);
  Tensor grad_x = Tensor::empty(x.shape());
  if (grad_x.numel() == 0) return grad_x;
  const EltwiseSpec spec = eltwise_spec(kind, alpha, beta);
  using namespace dnnl_backend;
  dnnl::primitive& prim = cached_primitive(spec_key("bwd", kind, spec, x), [&] {
    const dnnl::eltwise_backward::desc desc(spec.algorithm, dense_desc(x), dense_desc(x),
                                            spec.alpha, spec.beta);
    return dnnl::eltwise_backward(
        dnnl::eltwise_backward::primitive_desc(desc, cpu_engine(), forward_pd(spec, x)));
  });
  const dnnl::memory::desc md = dense_desc(x);
  prim.execute(cpu_stream(), {{DNNL_ARG_SRC, memory_of(x, md)},
                              {DNNL_ARG_DIFF_DST, memory_of(grad_y, md)},
                              {DNNL_ARG_DIFF_SRC, memory_of(grad_x, md)}});
  cpu_stream().wait();
  return grad_x;
}

}  // namespace mmx::kernels
