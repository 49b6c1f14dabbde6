#include "engine/io/directory_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "engine/error.hpp"

namespace mmx::io {
namespace {

// The holder's pid as it wrote it ("?" when it has not written it yet).
std::string holder_pid(int fd) {
  char text[32] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  std::string pid(text, n > 0 ? static_cast<size_t>(n) : 0);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "?" : pid;
}

}  // namespace

DirectoryLock::DirectoryLock(const std::filesystem::path& dir, const char* what) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  MMX_CHECK(!ec, what, ": cannot create the directory ", dir.string(), ": ", ec.message());
  const std::filesystem::path file = dir / kFileName;
  // O_NOFOLLOW: a link planted in the directory must not make us create or truncate elsewhere.
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  MMX_CHECK(fd_ >= 0, what, ": cannot open the lock file ", file.string(), ": ",
            std::strerror(errno), errno == ELOOP ? " (it is a symbolic link; remove it)" : "");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string pid = holder_pid(fd_);
    ::close(fd_);
    MMX_CHECK(error != EWOULDBLOCK, what, ": ", dir.string(), " is in use by process ", pid,
              " (another run writes there); wait for it to end or choose another directory");
    throw Error(cat(what, ": cannot lock ", file.string(), ": ", std::strerror(error)));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  // Best effort: without its pid the lock still holds, and another process names the holder "?".
  [[maybe_unused]] const bool noted =
      ::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, pid.data(), pid.size(), 0) > 0;
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace mmx::io
