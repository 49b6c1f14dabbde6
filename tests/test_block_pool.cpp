// The block pool (engine/block_pool.hpp): a step that frees and allocates the same sizes again
// takes no new memory, small blocks bypass it, and the idle blocks stay within the peak in use.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#ifdef MMX_SANITIZED
#include <sanitizer/asan_interface.h>
#endif

#include "engine/block_pool.hpp"
#include "engine/tensor.hpp"

using mmx::acquire_block;
using mmx::block_pool_stats;
using mmx::kPooledBlockBytes;
using mmx::release_block;

TEST_CASE("a repeated step of tensors is served by the blocks the last one gave back") {
  const std::vector<mmx::Shape> step = {{256, 256}, {64, 1024}, {256, 768}, {256, 256}};
  auto run_step = [&] {
    std::vector<mmx::Tensor> live;
    for (const mmx::Shape& shape : step) live.push_back(mmx::Tensor::zeros(shape));
    // Freed in another order than allocated, as a backward pass frees activations.
    std::swap(live[0], live[2]);
    live.clear();
  };
  run_step();
  const mmx::BlockPoolStats before = block_pool_stats();
  run_step();
  const mmx::BlockPoolStats after = block_pool_stats();
  CHECK(after.misses == before.misses);
  CHECK(after.hits == before.hits + static_cast<int64_t>(step.size()));
  CHECK(after.in_use_bytes == before.in_use_bytes);
  CHECK(after.idle_bytes == before.idle_bytes);
}

TEST_CASE("a freed block comes back for the next request of its size, not of another") {
  mmx::release_idle_blocks();  // so that the freed block is within the idle limit
  const size_t bytes = kPooledBlockBytes * 3;
  void* first = acquire_block(bytes);
  REQUIRE(first != nullptr);
  release_block(first, bytes);
  void* other_size = acquire_block(bytes + 64);
  CHECK(other_size != first);
  void* same_size = acquire_block(bytes);
  CHECK(same_size == first);
  release_block(same_size, bytes);
  release_block(other_size, bytes + 64);
}

TEST_CASE("blocks below the pooled size bypass the pool") {
  const mmx::BlockPoolStats before = block_pool_stats();
  void* small = acquire_block(kPooledBlockBytes - 64);
  REQUIRE(small != nullptr);
  CHECK(reinterpret_cast<uintptr_t>(small) % 64 == 0);
  release_block(small, kPooledBlockBytes - 64);
  const mmx::BlockPoolStats after = block_pool_stats();
  CHECK(after.hits == before.hits);
  CHECK(after.misses == before.misses);
  CHECK(after.idle_bytes == before.idle_bytes);
}

TEST_CASE("the idle blocks never exceed the most ever in use") {
  mmx::release_idle_blocks();
  REQUIRE(block_pool_stats().idle_bytes == 0);
  // Larger than anything in use so far, so the peak is this block and what else is live.
  const size_t bytes = static_cast<size_t>(block_pool_stats().peak_in_use_bytes) + (1 << 20);
  void* first = acquire_block(bytes);
  REQUIRE(first != nullptr);
  release_block(first, bytes);
  CHECK(block_pool_stats().idle_bytes == static_cast<int64_t>(bytes));  // within the peak: kept
  // Never in use together with the first: keeping both would exceed the peak, so it is freed.
  void* second = acquire_block(bytes + 64);
  REQUIRE(second != nullptr);
  release_block(second, bytes + 64);
  const mmx::BlockPoolStats stats = block_pool_stats();
  CHECK(stats.idle_bytes == static_cast<int64_t>(bytes));
  CHECK(stats.idle_bytes <= stats.peak_in_use_bytes);
  mmx::release_idle_blocks();
  CHECK(block_pool_stats().idle_bytes == 0);
}

#ifdef MMX_SANITIZED
TEST_CASE("under AddressSanitizer a kept block is poisoned until it is handed out again") {
  mmx::release_idle_blocks();
  const size_t bytes = kPooledBlockBytes * 2;
  void* block = acquire_block(bytes);
  REQUIRE(block != nullptr);
  CHECK(__asan_region_is_poisoned(block, bytes) == nullptr);
  release_block(block, bytes);
  REQUIRE(block_pool_stats().idle_bytes == static_cast<int64_t>(bytes));  // kept, not freed
  CHECK(__asan_address_is_poisoned(block));
  void* again = acquire_block(bytes);
  REQUIRE(again == block);
  CHECK(__asan_region_is_poisoned(again, bytes) == nullptr);
  release_block(again, bytes);
}
#endif
