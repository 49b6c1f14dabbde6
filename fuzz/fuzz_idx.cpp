// Fuzzes read_idx on plain and gzipped bytes. read_idx takes a path, so each input goes into
// an in-memory file (memfd) opened as /proc/self/fd/N: no disk traffic per execution.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/error.hpp"
#include "nn/data/idx_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = memfd_create("fuzz-idx", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  for (size_t done = 0; done < size;) {
    const ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  try {
    // The default limit (2 GiB): a header that claims more than the file holds must fail at
    // the end of the data, having allocated at most one read chunk beyond it.
    const mmx::data::IdxArray array = mmx::data::read_idx(path);
    int64_t numel = 1;
    for (const int64_t d : array.dims) numel *= d;
    if (numel != array.numel()) std::abort();  // dims and payload must agree
  } catch (const mmx::Error&) {
  }
  close(fd);
  return 0;
}
