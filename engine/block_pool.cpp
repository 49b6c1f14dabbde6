#include "engine/block_pool.hpp"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

// Under AddressSanitizer an idle block is poisoned: a use after free of a tensor's buffer is
// still reported although the block is kept, not freed.
#if defined(__SANITIZE_ADDRESS__)
#define MMX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MMX_ASAN 1
#endif
#endif
#ifdef MMX_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(address, size) ((void)(address), (void)(size))
#define ASAN_UNPOISON_MEMORY_REGION(address, size) ((void)(address), (void)(size))
#endif

namespace mmx {

namespace {

// Rounded up to the alignment, as aligned_alloc requires, which is also the pool's key.
size_t block_size(size_t bytes) {
  return (std::max<size_t>(bytes, 1) + 63) / 64 * 64;
}

struct BlockPool {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> idle;  // by block size
  BlockPoolStats stats;

  void free_idle_blocks() {  // caller holds the mutex
    for (auto& [size, blocks] : idle)
      for (void* block : blocks) {
        ASAN_UNPOISON_MEMORY_REGION(block, size);
        std::free(block);
      }
    idle.clear();
    stats.idle_bytes = 0;
  }
};

// Never destroyed: tensors in static storage may give their blocks back after it would be.
BlockPool& pool() {
  static BlockPool* const instance = new BlockPool;
  return *instance;
}

}  // namespace

void* acquire_block(size_t bytes) {
  const size_t size = block_size(bytes);
  if (size < kPooledBlockBytes) return std::aligned_alloc(64, size);
  BlockPool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  p.stats.in_use_bytes += static_cast<int64_t>(size);
  p.stats.peak_in_use_bytes = std::max(p.stats.peak_in_use_bytes, p.stats.in_use_bytes);
  auto kept = p.idle.find(size);
  if (kept != p.idle.end() && !kept->second.empty()) {
    void* block = kept->second.back();
    kept->second.pop_back();
    ASAN_UNPOISON_MEMORY_REGION(block, size);
    p.stats.idle_bytes -= static_cast<int64_t>(size);
    ++p.stats.hits;
    return block;
  }
  ++p.stats.misses;
  void* block = std::aligned_alloc(64, size);
  if (!block && p.stats.idle_bytes > 0) {  // the kept blocks may be what is missing
    p.free_idle_blocks();
    block = std::aligned_alloc(64, size);
  }
  if (!block) p.stats.in_use_bytes -= static_cast<int64_t>(size);
  return block;
}

void release_block(void* block, size_t bytes) {
  if (!block) return;
  const size_t size = block_size(bytes);
  if (size < kPooledBlockBytes) {
    std::free(block);
    return;
  }
  BlockPool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  p.stats.in_use_bytes -= static_cast<int64_t>(size);
  if (p.stats.idle_bytes + static_cast<int64_t>(size) > p.stats.peak_in_use_bytes) {
    std::free(block);
    return;
  }
  ASAN_POISON_MEMORY_REGION(block, size);
  p.idle[size].push_back(block);
  p.stats.idle_bytes += static_cast<int64_t>(size);
}

BlockPoolStats block_pool_stats() {
  BlockPool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.stats;
}

void release_idle_blocks() {
  BlockPool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  p.free_idle_blocks();
}

}  // namespace mmx
