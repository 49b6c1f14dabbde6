// What both builds share: the single-process communicator (a plain run, or a build without MPI).
#include <cstdio>
#include <cstdlib>

#include "nn/distributed/communicator.hpp"

namespace mmx::nn::distributed {

void SingleProcessCommunicator::abort(const std::string& message) {
  std::fprintf(stderr, "mmx: error: %s\n", message.c_str());
  std::exit(1);
}

}  // namespace mmx::nn::distributed
