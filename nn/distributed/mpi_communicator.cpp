// world() in a build with MPI (MMX_MPI=ON): the MPI world when mpirun started this process,
// else a single process. The only file that includes <mpi.h>.
//
// MPI is initialised only under mpirun (OMPI_COMM_WORLD_SIZE set): a plain `mmx` run would
// otherwise pay for a singleton MPI_Init, which is slow and fails as root in some containers.
// main() calls world() after its one re-exec (cli/main.cpp), so MPI_Init runs in the final image.
#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "engine/error.hpp"
#include "nn/distributed/communicator.hpp"

namespace mmx::nn::distributed {

namespace {

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int provided = 0;
    // Only the main thread calls MPI; OpenMP threads do the math in between.
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void allreduce_sum(std::span<float> values) override {
    MMX_CHECK(values.size() <= static_cast<size_t>(INT_MAX), "allreduce: ", values.size(),
              " floats do not fit one MPI message; split them into buckets");
    const Timer timer(seconds_);
    MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_FLOAT, MPI_SUM,
                  MPI_COMM_WORLD);
    bytes_sent_ += values.size_bytes();
  }

  double allreduce_sum(double value) override {
    const Timer timer(seconds_);
    double sum = 0;
    MPI_Allreduce(&value, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    bytes_sent_ += sizeof value;
    return sum;
  }

  uint64_t bytes_sent() const override { return bytes_sent_; }
  double seconds_in_collectives() const override { return seconds_; }

  // Not MPI_Abort: when several ranks fail at once (a bad flag fails them all), Open MPI 4.1's
  // concurrent aborts garble mpirun's report (ORTE_ERROR_LOG ... show_help.c). A rank that
  // exits non-zero without MPI_Finalize makes mpirun end the whole job just as fast (its
  // default, orte_abort_on_non_zero_status) and say which rank failed. _Exit: no MPI_Finalize
  // from the static destructor, which would wait for ranks that are still training.
  void abort(const std::string& message) override {
    std::fprintf(stderr, "mmx: error (rank %d of %d): %s\n", rank_, size_, message.c_str());
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(1);
  }

 private:
  // Adds the scope's wall time to a counter.
  struct Timer {
    explicit Timer(double& total) : total_(total) {}
    ~Timer() {
      total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;
    double& total_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  };

  int rank_ = 0;
  int size_ = 1;
  uint64_t bytes_sent_ = 0;
  double seconds_ = 0;
};

bool launched_by_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr;
}

}  // namespace

Communicator& world() {
  if (!launched_by_mpirun()) {
    static SingleProcessCommunicator single;
    return single;
  }
  // A function-local static: destroyed (MPI_Finalize) when the process exits normally.
  static MpiCommunicator mpi;
  return mpi;
}

bool built_with_mpi() {
  return true;
}

}  // namespace mmx::nn::distributed
