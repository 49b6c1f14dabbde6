// The one-row inference steps of engine/decoding.hpp: shape checks, then the kernels. Nothing
// is recorded on the tape and nothing is allocated. Within a shared_team (a decoder's whole
// token) every thread makes the checks, the products and attentions split among the threads,
// and the steps too small to split run on one_thread.
#include "engine/decoding.hpp"

#include <cmath>

#include "engine/error.hpp"
#include "engine/kernels/cached_attention.hpp"
#include "engine/kernels/gemv.hpp"
#include "engine/kernels/multimax.hpp"
#include "engine/parallel_region.hpp"

namespace mmx {

namespace {

// `t` is dense with exactly `shape`.
void check(const char* step, const char* name, const Tensor& t, const Shape& shape) {
  MMX_CHECK(t.defined() && t.is_contiguous() && t.shape() == shape, step, ": ", name,
            " must be a dense ", to_string(shape), ", got ",
            t.defined() ? to_string(t.shape()) : std::string("an undefined tensor"),
            t.defined() && !t.is_contiguous() ? " (strided)" : "");
}

int64_t length_of(const char* step, const Tensor& x) {
  MMX_CHECK(x.defined() && x.dim() == 1 && x.numel() > 0, step,
            ": x must be one non-empty row, got ",
            x.defined() ? to_string(x.shape()) : std::string("an undefined tensor"));
  return x.numel();
}

// The shapes linear_row and normed_linear_row share: x [in], weight [out, in], bias [out] or
// undefined, y [out]; returns `out`.
int64_t check_product(const char* step, const Tensor& x, const Tensor& weight, const Tensor& bias,
                      const Tensor& y) {
  const int64_t in = length_of(step, x);
  MMX_CHECK(weight.defined() && weight.dim() == 2, step, ": weight must be [out, in]");
  const int64_t out = weight.size(0);
  check(step, "x", x, {in});
  check(step, "weight", weight, {out, in});
  if (bias.defined()) check(step, "bias", bias, {out});
  check(step, "y", y, {out});
  return out;
}

}  // namespace

void linear_row(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor& y,
                bool accumulate) {
  const int64_t out = check_product("linear_row", x, weight, bias, y);
  kernels::gemv(weight.data(), x.data(), bias.defined() ? bias.data() : nullptr, out, x.numel(),
                y.data(), accumulate ? kernels::GemvOutput::Add : kernels::GemvOutput::Store);
}

void normed_linear_row(const Tensor& x, const RowLayerNorm& norm, const Tensor& weight,
                       const Tensor& bias, Tensor& y, bool gelu) {
  const char* step = "normed_linear_row";
  const int64_t out = check_product(step, x, weight, bias, y);
  const int64_t in = x.numel();
  check(step, "layer norm weight", norm.weight, {in});
  check(step, "layer norm bias", norm.bias, {in});
  MMX_CHECK(norm.eps > 0.0f, step, ": eps must be positive, got ", norm.eps);
  MMX_CHECK(y.data() != x.data(), step, ": y must not be x (every thread reads all of x)");
  kernels::layer_norm_gemv(x.data(), norm.weight.data(), norm.bias.data(), norm.eps, weight.data(),
                           bias.defined() ? bias.data() : nullptr, out, in, y.data(),
                           gelu ? kernels::GemvOutput::GeluExact : kernels::GemvOutput::Store);
}

void multimax_modulate_row(const Tensor& x, const MultiMaxParams& params, Tensor& y) {
  const char* step = "multimax_modulate_row";
  const int64_t n = length_of(step, x);
  check(step, "x", x, {n});
  check(step, "y", y, {n});
  check(step, "t", params.t, {4});
  check(step, "r", params.r, {4});
  MMX_CHECK(params.order == 1 || params.order == 2, step, ": order must be 1 or 2, got ",
            params.order);
  const float* t = params.t.data();
  const float* r = params.r.data();
  one_thread([&] {
    kernels::multimax_modulate_row(x.data(), n, {t[0], t[1], t[2], t[3], r[0], r[1], r[2], r[3]},
                                   params.order, y.data());
  });
}

namespace {

// The kernels' view of `multimax` (null: SoftMax), checked against `heads`.
kernels::RowNormalizer row_normalizer(const char* step, const MultiMaxParams* multimax,
                                      int64_t heads) {
  if (!multimax) return {.t = nullptr, .r = nullptr, .multimax_heads = 0, .order = 0};
  const Tensor& t = multimax->t;
  const Shape shape = t.dim() == 2 ? Shape{heads, 4} : Shape{4};
  check(step, "MultiMax t", t, shape);
  check(step, "MultiMax r", multimax->r, shape);
  MMX_CHECK(multimax->order == 1 || multimax->order == 2, step,
            ": MultiMax order must be 1 or 2, got ", multimax->order);
  return {.t = t.data(),
          .r = multimax->r.data(),
          .multimax_heads = t.dim() == 2 ? heads : 1,
          .order = multimax->order};
}

float score_scale(int64_t dh) {
  return 1.0f / std::sqrt(static_cast<float>(dh));
}

}  // namespace

void cached_attention_row(CachedAttentionStep& s) {
  const char* step = "cached_attention_row";
  MMX_CHECK(s.keys.defined() && s.keys.dim() == 3, step, ": keys must be [heads, capacity, dh]");
  const int64_t heads = s.keys.size(0), capacity = s.keys.size(1), dh = s.keys.size(2);
  const int64_t d = heads * dh;
  check(step, "keys", s.keys, {heads, capacity, dh});
  check(step, "values", s.values, {heads, capacity, dh});
  check(step, "qkv", s.qkv, {3 * d});
  check(step, "scratch", s.scratch, {2 * heads * capacity});
  check(step, "y", s.y, {d});
  MMX_CHECK(s.position >= 0 && s.position < capacity, step, ": position ", s.position,
            " is outside the cache's ", capacity, " positions");
  kernels::cached_attention_row({.qkv = s.qkv.data(),
                                 .keys = s.keys.data(),
                                 .values = s.values.data(),
                                 .heads = heads,
                                 .capacity = capacity,
                                 .head_dim = dh,
                                 .position = s.position,
                                 .scale = score_scale(dh),
                                 .normalizer = row_normalizer(step, s.multimax, heads),
                                 .scratch = s.scratch.data(),
                                 .y = s.y.data()});
}

void memory_attention_row(MemoryAttentionStep& s) {
  const char* step = "memory_attention_row";
  MMX_CHECK(s.keys.defined() && s.keys.dim() == 3 && s.keys.size(1) > 0, step,
            ": keys must be [heads, length, dh] with length > 0");
  const int64_t heads = s.keys.size(0), length = s.keys.size(1), dh = s.keys.size(2);
  const int64_t d = heads * dh;
  check(step, "keys", s.keys, {heads, length, dh});
  check(step, "values", s.values, {heads, length, dh});
  check(step, "q", s.q, {d});
  if (s.key_mask.defined()) check(step, "key_mask", s.key_mask, {length});
  MMX_CHECK(
      s.scratch.defined() && s.scratch.is_contiguous() && s.scratch.numel() >= 2 * heads * length,
      step, ": scratch must be dense with at least ", 2 * heads * length, " floats");
  check(step, "y", s.y, {d});
  kernels::attention_row({.q = s.q.data(),
                          .keys = s.keys.data(),
                          .values = s.values.data(),
                          .heads = heads,
                          .capacity = length,
                          .head_dim = dh,
                          .length = length,
                          .key_mask = s.key_mask.defined() ? s.key_mask.data() : nullptr,
                          .scale = score_scale(dh),
                          .normalizer = row_normalizer(step, s.multimax, heads),
                          .scratch = s.scratch.data(),
                          .y = s.y.data()});
}

}  // namespace mmx
