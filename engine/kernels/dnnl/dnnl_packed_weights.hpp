// Weights packed into a matmul primitive's own layout for them. A primitive given a plain
// [in, out] or [out, in] weight repacks it into its blocked layout on every call; a weight is read
// by many products between two optimizer steps, so it is packed once per version instead. The
// pack is a oneDNN reorder, which also rounds to bf16 when the primitive reads bf16. Only files in
// engine/kernels/dnnl/ include this header.
#pragma once

#include <dnnl.hpp>

#include "engine/tensor.hpp"

namespace mmx::dnnl_backend {

// The weights `t`, read through `from` (f32, t's layout as the product sees it), reordered into
// `to` (a primitive's weights layout, f32 or bf16). The packed copy is kept, and reused by later
// calls with the same storage, `from` and `to`, until t's storage version changes (the caller
// promises t is not written meanwhile without a version bump). W and W^T are two copies.
dnnl::memory packed_weights(const Tensor& t, const dnnl::memory::desc& from,
                            const dnnl::memory::desc& to);

// How many packs packed_weights has made on this thread (a kept copy reused counts none).
int64_t weight_packs();

}  // namespace mmx::dnnl_backend
