// world() in a build without MPI (MMX_MPI=OFF): always one process. Launched by mpirun anyway,
// N copies would each train the whole model and overwrite each other's checkpoints, so that is
// refused with the fix.
#include <cstdlib>

#include "engine/error.hpp"
#include "nn/distributed/communicator.hpp"

namespace mmx::nn::distributed {

Communicator& world() {
  static SingleProcessCommunicator single;
  static const bool checked = [] {
    const char* ranks = std::getenv("OMPI_COMM_WORLD_SIZE");
    MMX_CHECK(ranks == nullptr || std::atoi(ranks) <= 1, "mpirun started ", ranks,
              " copies of an mmx built without MPI; install libopenmpi-dev and rebuild with "
              "-DMMX_MPI=ON (or run without mpirun)");
    return true;
  }();
  (void)checked;
  return single;
}

bool built_with_mpi() {
  return false;
}

}  // namespace mmx::nn::distributed
