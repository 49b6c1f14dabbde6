/// \file
/// Where tensors' large buffers come from. A training step frees and allocates the same
/// activation-sized buffers every step, in an order that varies a little. glibc's heap serves them
/// best-fit from freed chunks that it splits and merges, so its top crept up by 4-6 MiB every few
/// steps, and each new page was faulted in while a product wrote it: the first backward product of
/// a small bf16 step took 13 ms against 1.5 ms (`DNNL_VERBOSE`), at 12 us a fault on these
/// virtual machines. The pool keeps each freed block for the next request of the same size, so
/// from the second step on a step takes no new memory at all (docs/performance.md, "A pool for
/// tensor buffers").
#pragma once

#include <cstddef>
#include <cstdint>

namespace mmx {

/// What the pool holds, in bytes, and how its requests went since the process started.
struct BlockPoolStats {
  int64_t in_use_bytes = 0;       ///< blocks handed out and not yet given back
  int64_t idle_bytes = 0;         ///< blocks given back and kept for reuse
  int64_t peak_in_use_bytes = 0;  ///< the most ever in use at once: the idle blocks' limit
  int64_t hits = 0;               ///< requests served by a kept block
  int64_t misses = 0;             ///< requests that had to allocate
};

/// A 64-byte-aligned block of at least `bytes` bytes, or nullptr when the memory is exhausted
/// (after giving the idle blocks back to the C library and trying again). Blocks of
/// kPooledBlockBytes and more come from the pool; smaller ones straight from the C library,
/// whose own caches serve them well.
void* acquire_block(size_t bytes);
/// Gives back a block from acquire_block(bytes), the same `bytes`. It is kept for reuse while
/// the idle blocks stay within the most the process ever had in use (so the pool holds at most
/// twice its peak), and freed otherwise.
void release_block(void* block, size_t bytes);

/// The smallest block the pool keeps.
constexpr size_t kPooledBlockBytes = size_t{64} << 10;

/// The pool's figures now (a copy, taken under its lock).
BlockPoolStats block_pool_stats();
/// Frees every idle block (the memory goes back to the C library).
void release_idle_blocks();

}  // namespace mmx
