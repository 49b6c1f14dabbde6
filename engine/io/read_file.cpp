#include "engine/io/read_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/error.hpp"

namespace mmx::io {
namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

void require_regular(const std::filesystem::path& path, mode_t mode) {
  MMX_CHECK(S_ISREG(mode), "cannot read ", path.string(), ": it is ", kind_of(mode),
            ", not a regular file (is the path right?)");
}

}  // namespace

void require_regular_file(const std::filesystem::path& path) {
  struct stat st {};
  // stat, not lstat: a symlink is judged by what it points at.
  MMX_CHECK(::stat(path.c_str(), &st) == 0, "cannot open ", path.string(), ": ",
            std::strerror(errno));
  require_regular(path, st.st_mode);
}

InputFile::InputFile(const std::filesystem::path& path) : path_(path) {
  require_regular_file(path);
  // O_NONBLOCK: if the path became a FIFO since the check, open returns instead of waiting for
  // a writer; fstat below then refuses it.
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  MMX_CHECK(fd_ >= 0, "cannot open ", path.string(), ": ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    require_regular(path, st.st_mode);
  }
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
  size_ = st.st_size;
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

int64_t InputFile::read_some(char* out, int64_t n) {
  for (;;) {
    const ssize_t got = ::read(fd_, out, static_cast<size_t>(n));
    if (got >= 0) return got;
    MMX_CHECK(errno == EINTR, "cannot read ", path_.string(), ": ", std::strerror(errno));
  }
}

std::string read_file_bytes(const std::filesystem::path& path, int64_t max_bytes) {
  InputFile file(path);
  MMX_CHECK(file.size() <= max_bytes, "cannot read ", path.string(), ": it is ", file.size(),
            " bytes, more than the ", max_bytes, "-byte limit for this file");
  // One byte more than the cap: a file that grew since it was opened is caught, not cut.
  std::string bytes(static_cast<size_t>(file.size()) + 1, '\0');
  int64_t done = 0;
  for (;;) {
    if (done == static_cast<int64_t>(bytes.size())) {
      MMX_CHECK(done <= max_bytes, "cannot read ", path.string(), ": it grew past the ", max_bytes,
                "-byte limit for this file while being read");
      bytes.resize(std::min<size_t>(bytes.size() * 2, static_cast<size_t>(max_bytes) + 1));
    }
    const int64_t got =
        file.read_some(bytes.data() + done, static_cast<int64_t>(bytes.size()) - done);
    if (got == 0) break;
    done += got;
  }
  bytes.resize(static_cast<size_t>(done));
  return bytes;
}

}  // namespace mmx::io
