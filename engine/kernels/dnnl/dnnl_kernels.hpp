// The oneDNN backend's entry points, as the kernels outside this folder call them
// (kernels/elementwise.cpp, matmul.cpp, softmax.cpp, layer_norm.cpp, primitive_cache_stats.cpp):
// declared without <dnnl.hpp>, so that only the .cpp files here see oneDNN. Private to the
// kernels target, like the whole folder; the callers have checked the arguments.
#pragma once

#include <cstdint>

#include "engine/kernels/elementwise.hpp"
#include "engine/kernels/layer_norm.hpp"
#include "engine/kernels/matmul.hpp"
#include "engine/kernels/primitive_cache_stats.hpp"
#include "engine/precision.hpp"
#include "engine/tensor.hpp"

namespace mmx::kernels {

// --------------------------------------------------------------- elementwise (dnnl_binary.cpp,
// dnnl_eltwise.cpp)
// a (op) b on a oneDNN binary primitive, the result contiguous. Returns an undefined Tensor
// when oneDNN cannot take the inputs at full speed: when `a` repeats (oneDNN 2.6 broadcasts
// src1 only) or an input is not dense apart from its broadcast axes (oneDNN then drops to a
// reference implementation, measured ~100x slower than our strided loop on a transposed
// [4096, 512] add). Expanded (stride-0) axes of `b` are broadcast axes, no copy.
Tensor dnnl_binary(BinaryOp op, const Tensor& a, const Tensor& b);

// Eltwise forward/backward on oneDNN. `x` and `grad_y` must be contiguous (oneDNN 2.6 eltwise
// gives dst the layout of src, and our outputs are contiguous). Not for Eltwise::Linear.
Tensor dnnl_eltwise_forward(Eltwise kind, const Tensor& x, float alpha, float beta);
Tensor dnnl_eltwise_backward(Eltwise kind, const Tensor& x, const Tensor& grad_y, float alpha,
                             float beta);

// --------------------------------------------------------------- matmul (dnnl_matmul.cpp)
// out = a b + bias on one cached primitive; out's layout is its strides,
// its shape the checked product's, no dimension empty; `bias` may be undefined. With bf16, a and
// b are rounded to bf16 first; the product accumulates in fp32 into fp32 out. `keep` says what
// may be kept across products (kernels/matmul.hpp).
void dnnl_matmul(Tensor a, Tensor b, Tensor bias, Tensor& out, MatmulPrecision precision,
                 KeepOperands keep);
// The operands dnnl_matmul has copied to dense memory on this thread (strides oneDNN's gemm
// cannot read).
int64_t dnnl_matmul_operand_copies();
// Whether oneDNN runs bf16 products on AMX's tile units (Sapphire Rapids and later), as far as
// DNNL_MAX_CPU_ISA lets it.
bool dnnl_matmul_has_amx();
// The bf16 conversions dnnl_matmul has made on this thread.
int64_t dnnl_matmul_bf16_conversions();
// The weights dnnl_matmul has packed on this thread.
int64_t dnnl_matmul_weight_packs();
// The bf16 bits of `t` (dense, row-major) as dnnl_matmul rounds an operand: in this thread's
// scratch slot `slot` (0 or 1, overwritten by the next product; not converted again if the slot's
// last conversion was of t, unchanged since), or with `keep` in the copy kept until t's storage
// version changes (KeepOperands).
const uint16_t* dnnl_bf16_bits(const Tensor& t, int slot, bool keep);
// Makes the bf16 copy dnnl_bf16_bits(t, slot, keep = true) finds, for t dense [rows, cols], and
// sums t's columns into `sums` in the same pass; false (nothing done) when that copy is current.
bool dnnl_keep_bf16_summing_columns(const Tensor& t, float* sums);

// --------------------------------------------------------------- softmax (dnnl_softmax.cpp)
// Over the last axis of x (at least one axis); x of any strides, results contiguous.
Tensor dnnl_softmax_forward(const Tensor& x);
Tensor dnnl_softmax_backward(const Tensor& y, const Tensor& gy);  // same shapes
Tensor dnnl_log_softmax_forward(const Tensor& x);
Tensor dnnl_log_softmax_backward(const Tensor& y, const Tensor& gy);  // same shapes

// --------------------------------------------------------------- layer norm (dnnl_layer_norm.cpp)
// kernels/layer_norm.hpp's forward, its shapes checked (the backward is our own loop).
LayerNormForward dnnl_layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                         float eps);

// --------------------------------------------------------------- cache (dnnl_context.cpp)
// The counters of this thread's primitive cache.
PrimitiveCacheStats dnnl_primitive_cache_stats();

}  // namespace mmx::kernels
