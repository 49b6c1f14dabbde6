// The counters are the oneDNN backend's: its primitive cache keeps them
// (kernels/dnnl/dnnl_context.cpp).
#include "engine/kernels/primitive_cache_stats.hpp"

#include "engine/kernels/dnnl/dnnl_kernels.hpp"

namespace mmx::kernels {

PrimitiveCacheStats primitive_cache_stats() {
  return dnnl_primitive_cache_stats();
}

}  // namespace mmx::kernels
