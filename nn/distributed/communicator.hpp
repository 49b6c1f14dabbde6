/// \file
/// Communicator: the one interface between training and the processes it runs on. Data-parallel
/// training calls it for every cross-process sum; without MPI it is a single process of rank 0.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace mmx::nn::distributed {

/// The processes (ranks) of one training job. Every rank must make the same collective calls
/// in the same order: they block until all ranks arrive.
class Communicator {
 public:
  virtual ~Communicator() = default;

  /// This process's number, 0 .. size() - 1. Rank 0 writes logs, progress and checkpoints.
  virtual int rank() const = 0;
  /// How many processes train together.
  virtual int size() const = 0;
  /// Replaces `values` on every rank by their elementwise sum over all ranks (one message).
  virtual void allreduce_sum(std::span<float> values) = 0;
  /// The sum of `value` over all ranks, on every rank.
  virtual double allreduce_sum(double value) = 0;
  /// Bytes this rank has handed to collectives so far (payload, not the transport's copies).
  virtual uint64_t bytes_sent() const = 0;
  /// Wall time this rank has spent inside collectives so far, waiting included.
  virtual double seconds_in_collectives() const = 0;
  /// Exits with code 1 after printing `message` (rank-tagged) on stderr, so that the launcher
  /// ends every other rank too: a rank that fails must not leave the others waiting in a
  /// collective.
  [[noreturn]] virtual void abort(const std::string& message) = 0;

  /// rank() == 0: the process that prints and writes files.
  bool is_main() const { return rank() == 0; }
  /// Whether any rank passed true (a collective: every rank must call it).
  bool any(bool flag) { return size() > 1 ? allreduce_sum(flag ? 1.0 : 0.0) > 0 : flag; }
};

/// One process alone: rank 0 of 1; sums are the values themselves and nothing is sent.
class SingleProcessCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_sum(std::span<float>) override {}
  double allreduce_sum(double value) override { return value; }
  uint64_t bytes_sent() const override { return 0; }
  double seconds_in_collectives() const override { return 0; }
  /// Prints `message` and exits with code 1.
  [[noreturn]] void abort(const std::string& message) override;
};

/// The job this process belongs to: under `mpirun` (Open MPI) the MPI world, initialised on
/// the first call; otherwise (or in a build without MPI) a single process of rank 0, and MPI is
/// never initialised. MPI is finalised when the process exits normally.
Communicator& world();

/// Whether this build can train over MPI (CMake option MMX_MPI).
bool built_with_mpi();

}  // namespace mmx::nn::distributed
