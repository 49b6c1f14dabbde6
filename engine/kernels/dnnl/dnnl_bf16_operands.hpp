// The bf16 copies of matmul operands (engine/precision.hpp). An operand laid out densely in some
// axis order (row-major, or a transposed view) is converted flat and keeps its strides, so no
// conversion ever transposes and W and its transposed view share one copy; other layouts (a
// window of wider rows) are packed densely in their own axis order. Operands the caller marks as
// kept (weights, activations saved for the backward) keep their copy across products until their
// storage's version changes. Only files in engine/kernels/dnnl/ include this header.
#pragma once

#include <dnnl.hpp>

#include "engine/tensor.hpp"

namespace mmx::dnnl_backend {

// The descriptor of operand `dims`/`strides`'s bf16 copy: the same strides when they are dense in
// some axis order, else dense strides in the same axis order.
dnnl::memory::desc bf16_operand_desc(const Shape& dims, const Shape& strides);

// The bf16 copy of `t`, read through `dims`/`strides` (its layout as the product sees it), in
// this thread's scratch slot `slot` (0 or 1), or, with `keep`, in a copy kept for later products
// until t's storage version changes (the caller promises t is not written meanwhile without a
// version bump). Scratch and kept buffers only grow: a warm training step allocates nothing.
dnnl::memory bf16_operand(const Tensor& t, const Shape& dims, const Shape& strides, int slot,
                          bool keep);

// The bf16 bits of `t` (dense, row-major) as bf16_operand makes them, for our own kernels. Without
// `keep`, the bits slot `slot` already holds when its last conversion was of t and t's version is
// unchanged since (a linear layer's input, put in row pairs right after its forward product read
// it): the caller promises that no write without a version bump came between.
const uint16_t* bf16_bits(const Tensor& t, int slot, bool keep);

// Makes t's kept bf16 copy (as bf16_operand with `keep`) for t dense [rows, cols], summing t's
// columns into `sums` [cols] in the same pass; returns false, sums untouched, when the kept copy
// was already current (nothing converted).
bool keep_bf16_summing_columns(const Tensor& t, float* sums);

// How many conversions bf16_operand has made on this thread (kept copies reused count none).
int64_t bf16_conversions();

}  // namespace mmx::dnnl_backend
