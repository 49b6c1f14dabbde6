// Layer normalization over the last axis on oneDNN's layer_normalization primitives (2.6 API:
// use_scale / use_shift flags). The forward keeps mean and variance for the backward
// (kernels/layer_norm.cpp, our own loop).
#include <string>

#include "engine/kernels/dnnl/dnnl_context.hpp"
#include "engine/kernels/dnnl/dnnl_kernels.hpp"
#include "engine/kernels/elementwise.hpp"

namespace mmx::kernels {

namespace {

using dnnl::memory;
using dnnl_backend::cached_primitive;
using dnnl_backend::cpu_engine;
using dnnl_backend::cpu_stream;
using dnnl_backend::memory_of;
using Flags = dnnl::normalization_flags;

// oneDNN sees x as [rows, C] and the statistics as [rows], whatever the leading axes.
struct RowsLayout {
  memory::desc data, stats, channel;
};

RowsLayout rows_layout(const Tensor& x) {
  const int64_t c = x.shape().back();
  const int64_t rows = x.numel() / c;
  return {dnnl_backend::memory_desc({rows, c}, {c, 1}), dnnl_backend::memory_desc({rows}, {1}),
          dnnl_backend::memory_desc({c}, {1})};
}

Flags flags_for(const Tensor& weight, const Tensor& bias) {
  Flags f = Flags::none;
  if (weight.defined()) f |= Flags::use_scale;
  if (bias.defined()) f |= Flags::use_shift;
  return f;
}

std::string key_for(const char* kind, const Tensor& x, Flags flags, float eps) {
  return std::string(kind) + ';' + to_string(x.shape()) + ';' +
         std::to_string(static_cast<unsigned>(flags)) + ';' + std::to_string(eps);
}

dnnl::layer_normalization_forward::primitive_desc forward_pd(const RowsLayout& l, Flags flags,
                                                             float eps) {
  const dnnl::layer_normalization_forward::desc desc(dnnl::prop_kind::forward_training, l.data,
                                                     l.stats, eps, flags);
  return {desc, cpu_engine()};
}

}  // namespace

LayerNormForward dnnl_layer_norm_forward(const Tensor& x_in, const Tensor& weight_in,
                                         const Tensor& bias_in, float eps) {
  const Tensor x = contiguous_copy(x_in);
  const int64_t rows = x.numel() / x.shape().back();
  LayerNormForward out{Tensor::empty(x.shape()), Tensor::empty({rows}), Tensor::empty({rows})};
  if (rows == 0) return out;

  const RowsLayout l = rows_layout(x);
  const Flags flags = flags_for(weight_in, bias_in);
  dnnl::primitive& p = cached_primitive(key_for("layer_norm_fwd", x, flags, eps), [&] {
    return dnnl::layer_normalization_forward(forward_pd(l, flags, eps));
  });
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory_of(x, l.data)},
                                       {DNNL_ARG_DST, memory_of(out.y, l.data)},
                                       {DNNL_ARG_MEAN, memory_of(out.mean, l.stats)},
                                       {DNNL_ARG_VARIANCE, memory_of(out.variance, l.stats)}};
  const Tensor weight = weight_in.defined() ? contiguous_copy(weight_in) : Tensor();
  const Tensor bias = bias_in.defined() ? contiguous_copy(bias_in) : Tensor();
  if (weight.defined()) args.emplace(DNNL_ARG_SCALE, memory_of(weight, l.channel));
  if (bias.defined()) args.emplace(DNNL_ARG_SHIFT, memory_of(bias, l.channel));
  p.execute(cpu_stream(), args);
  cpu_stream().wait();
  return out;
}

}  // namespace mmx::kernels
