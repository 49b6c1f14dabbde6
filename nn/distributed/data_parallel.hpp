/// \file
/// Data-parallel training on a Communicator: which rows of the global batch a rank trains on,
/// averaging gradients over ranks in a few large messages, and per-rank dropout masks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/random.hpp"
#include "engine/tensor.hpp"
#include "nn/distributed/communicator.hpp"

namespace mmx::nn::distributed {

/// Rows [begin, begin + count) of a global batch: one rank's contiguous share.
struct RankRows {
  int64_t begin = 0;  ///< first row of the share
  int64_t count = 0;  ///< rows in the share
};

/// Rank r of N trains on rows [r B/N, (r+1) B/N) of every global batch of B rows. Every rank
/// draws the whole global batch from the same seeded stream and keeps its share, so N ranks
/// see exactly the rows one process would. B must be a multiple of N (an mmx::Error otherwise:
/// equal shares keep the mean of the ranks' mean losses equal to the global batch's mean).
RankRows rank_rows(int64_t global_batch, const Communicator& comm);

/// Largest message average_gradients sends: big enough that per-message latency is negligible,
/// small enough that no single message dominates memory.
inline constexpr size_t kGradientBucketBytes = size_t{4} << 20;

/// Replaces every parameter's gradient by its mean over the ranks: the gradients are packed
/// into one flat buffer, summed with one allreduce per bucket of at most `bucket_bytes`, scaled
/// by 1/N and copied back. A parameter without a gradient counts as zeros and gets one only if
/// some rank had one. Does nothing on a single process.
void average_gradients(const std::vector<Tensor>& parameters, Communicator& comm,
                       size_t bucket_bytes = kGradientBucketBytes);

/// While alive, `dropout` draws this rank's own masks: the ranks share one dropout stream (it
/// is saved in checkpoints), and identical masks on every rank's rows would make the N shares
/// of a batch less independent than one process's rows. On construction the shared stream
/// advances by one draw, which seeds a per-rank stream; on destruction the shared stream
/// continues from that advanced state on every rank. Does nothing on a single process, so a
/// single-process run draws exactly as before.
class RankDropoutStream {
 public:
  /// Swaps `dropout` to this rank's stream for the guard's lifetime.
  RankDropoutStream(Generator& dropout, const Communicator& comm);
  ~RankDropoutStream();
  RankDropoutStream(const RankDropoutStream&) = delete;
  RankDropoutStream& operator=(const RankDropoutStream&) = delete;

 private:
  Generator& dropout_;
  Generator::State shared_after_{};
  bool active_ = false;
};

}  // namespace mmx::nn::distributed
