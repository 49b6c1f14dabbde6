// matmul on oneDNN's matmul primitive: batched, broadcast batch axes, operands read through
// their strides (a transposed view is just other strides), the bias fused into the primitive.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/error.hpp"
#include "engine/kernels/dnnl/dnnl_bf16_operands.hpp"
#include "engine/kernels/dnnl/dnnl_context.hpp"
#include "engine/kernels/dnnl/dnnl_kernels.hpp"
#include "engine/kernels/dnnl/dnnl_packed_weights.hpp"
#include "engine/kernels/elementwise.hpp"
#include "engine/precision.hpp"

namespace mmx::kernels {

namespace {

// One operand as oneDNN sees it: the output's rank, leading 1s prepended.
struct Layout {
  Shape dims;
  Shape strides;
};

Layout padded_layout(const Tensor& t, size_t ndims) {
  Layout l{Shape(ndims, 1), Shape(ndims, 0)};
  const size_t lead = ndims - t.shape().size();
  for (size_t d = 0; d < t.shape().size(); ++d) {
    l.dims[lead + d] = t.shape()[d];
    l.strides[lead + d] = t.strides()[d];
  }
  return l;
}

// oneDNN's fast (gemm-based) matmul refuses zero strides and wants one of the two inner strides
// to be 1; anything else falls back to a slow reference loop. So a stride-0 batch axis (an
// expanded view) becomes a size-1 axis, which oneDNN broadcasts itself, as long as the other
// operand spans that axis in full; size-1 axes, whose stride never matters, get a nonzero one.
// Returns false when the layout stays unusable.
bool make_gemm_friendly(Layout& l, const Layout& other) {
  const size_t n = l.dims.size();
  for (size_t d = 0; d + 2 < n; ++d)
    if (l.strides[d] == 0 && other.dims[d] == l.dims[d]) l.dims[d] = 1;
  for (size_t d = n; d-- > 0;)
    if (l.dims[d] == 1)
      l.strides[d] = d + 1 < n ? std::max<int64_t>(l.strides[d + 1] * l.dims[d + 1], 1) : 1;
  for (int64_t s : l.strides)
    if (s <= 0) return false;
  return l.strides[n - 1] == 1 || l.strides[n - 2] == 1;
}

thread_local int64_t operand_copies = 0;

Tensor counted_copy(const Tensor& t) {
  ++operand_copies;
  return contiguous_copy(t);
}

// The layout of `t` for oneDNN, copying `t` to dense memory only when its strides cannot be
// handed over as they are; `t` is replaced by the tensor whose data the layout describes.
// `other` is the other operand's padded layout, before any change.
Layout operand_layout(Tensor& t, const Layout& other) {
  const size_t ndims = other.dims.size();
  Layout l = padded_layout(t, ndims);
  if (make_gemm_friendly(l, other)) return l;
  t = counted_copy(t);
  l = padded_layout(t, ndims);
  make_gemm_friendly(l, other);
  return l;
}

// The raw bytes of dims and strides: a cache key built on every call must be cheap to make, not
// to read (a 64x64 product takes a few microseconds).
void append_layout(std::string& key, const Layout& l) {
  key.append(reinterpret_cast<const char*>(l.dims.data()), l.dims.size() * sizeof(int64_t));
  key.append(reinterpret_cast<const char*>(l.strides.data()), l.strides.size() * sizeof(int64_t));
  key += ';';
}

// Creates a primitive for a bf16 product, turning oneDNN's refusal into an mmx::Error: with bf16
// asked for, an fp32 fallback would silently measure something else.
dnnl::primitive bf16_primitive(const std::function<dnnl::primitive()>& make) {
  try {
    return make();
  } catch (const dnnl::error& e) {
    throw Error(cat("matmul: oneDNN cannot run a bf16 matmul on this CPU (", e.what(),
                    "); use fp32 precision"));
  }
}

}  // namespace

int64_t dnnl_matmul_operand_copies() {
  return operand_copies;
}

bool dnnl_matmul_has_amx() {
  constexpr auto amx = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_amx);
  static const bool has = (static_cast<unsigned>(dnnl::get_effective_cpu_isa()) & amx) == amx;
  return has;
}

int64_t dnnl_matmul_bf16_conversions() {
  return dnnl_backend::bf16_conversions();
}

int64_t dnnl_matmul_weight_packs() {
  return dnnl_backend::weight_packs();
}

const uint16_t* dnnl_bf16_bits(const Tensor& t, int slot, bool keep) {
  return dnnl_backend::bf16_bits(t, slot, keep);
}

bool dnnl_keep_bf16_summing_columns(const Tensor& t, float* sums) {
  return dnnl_backend::keep_bf16_summing_columns(t, sums);
}

void dnnl_matmul(Tensor a, Tensor b, Tensor bias, Tensor& out, MatmulPrecision precision,
                 KeepOperands keep) {
  const bool bf16 = precision == MatmulPrecision::bf16;
  // Batched weights (attention's blocks) are not parameters: only a 2-D product packs.
  const bool pack_b = keep.b_packed && out.dim() == 2;
  const int64_t n = b.size(-1);
  const Shape& out_shape = out.shape();
  const size_t ndims = out_shape.size();
  // b decides after a: if both were expanded along one axis, only a becomes size 1 there.
  const Layout la = operand_layout(a, padded_layout(b, ndims));
  const Layout lb = operand_layout(b, la);
  const Layout lc{out_shape, out.strides()};
  Layout lbias;
  if (bias.defined()) {
    if (n > 1 && bias.strides()[0] <= 0) bias = counted_copy(bias);
    lbias = {Shape(ndims, 1), Shape(ndims, n)};
    lbias.dims.back() = n;
    lbias.strides.back() = n > 1 ? bias.strides()[0] : 1;
  }

  std::string key = "matmul;";
  if (bf16) key += "bf16;";
  if (pack_b) key += "packed;";
  key.reserve(32 + 4 * 2 * ndims * sizeof(int64_t));
  append_layout(key, la);
  append_layout(key, lb);
  append_layout(key, lc);
  if (bias.defined()) append_layout(key, lbias);

  using dnnl_backend::bf16_operand_desc;
  using dnnl_backend::memory_desc;
  const dnnl::memory::desc a_md =
      bf16 ? bf16_operand_desc(la.dims, la.strides) : memory_desc(la.dims, la.strides);
  const dnnl::memory::data_type b_type =
      bf16 ? dnnl::memory::data_type::bf16 : dnnl::memory::data_type::f32;
  // A packed weight's layout is the primitive's choice (`any`), asked for once it exists.
  const dnnl::memory::desc b_md =
      pack_b ? dnnl::memory::desc(dnnl::memory::dims(lb.dims.begin(), lb.dims.end()), b_type,
                                  dnnl::memory::format_tag::any)
      : bf16 ? bf16_operand_desc(lb.dims, lb.strides)
             : memory_desc(lb.dims, lb.strides);
  const dnnl::memory::desc c_md = memory_desc(lc.dims, lc.strides);
  const dnnl::memory::desc bias_md =
      bias.defined() ? memory_desc(lbias.dims, lbias.strides) : dnnl::memory::desc();
  const auto make = [&] {
    const dnnl::matmul::desc desc = bias.defined() ? dnnl::matmul::desc(a_md, b_md, bias_md, c_md)
                                                   : dnnl::matmul::desc(a_md, b_md, c_md);
    return dnnl::primitive(
        dnnl::matmul(dnnl::matmul::primitive_desc(desc, dnnl_backend::cpu_engine())));
  };
  dnnl::primitive& primitive =
      dnnl_backend::cached_primitive(key, [&] { return bf16 ? bf16_primitive(make) : make(); });

  using dnnl_backend::bf16_operand;
  dnnl::memory b_memory;
  if (pack_b) {
    const dnnl_memory_desc_t* packed_md =
        dnnl_primitive_desc_query_md(primitive.get_primitive_desc(), dnnl_query_weights_md, 0);
    b_memory = dnnl_backend::packed_weights(b, memory_desc(lb.dims, lb.strides),
                                            dnnl::memory::desc(*packed_md));
  } else {
    b_memory = bf16 ? bf16_operand(b, lb.dims, lb.strides, 1, keep.b_bf16)
                    : dnnl_backend::memory_of(b, b_md);
  }
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, bf16 ? bf16_operand(a, la.dims, la.strides, 0, keep.a_bf16)
                          : dnnl_backend::memory_of(a, a_md)},
      {DNNL_ARG_WEIGHTS, b_memory},
      {DNNL_ARG_DST, dnnl_backend::memory_of(out, c_md)}};
  if (bias.defined()) args.emplace(DNNL_ARG_BIAS, dnnl_backend::memory_of(bias, bias_md));
  primitive.execute(dnnl_backend::cpu_stream(), args);
  dnnl_backend::cpu_stream().wait();
}

}  // namespace mmx::kernels
