// Counters for the oneDNN primitive cache, readable without including oneDNN: tests use them
// to show that the second call of a shape creates no primitive.
#pragma once

#include <cstdint>

namespace mmx::kernels {

struct PrimitiveCacheStats {
  int64_t created = 0;  // primitives built (cache misses)
  int64_t reused = 0;   // cache hits
};

PrimitiveCacheStats primitive_cache_stats();

}  // namespace mmx::kernels
