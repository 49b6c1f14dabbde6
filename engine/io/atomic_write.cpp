#include "engine/io/atomic_write.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "engine/error.hpp"

namespace mmx::io {
namespace {

std::atomic<int64_t> bytes_before_injected_failure{-1};  // negative: no fault injected

// write(2), unless an injected fault says the disk is full.
ssize_t checked_write(int fd, const char* data, size_t n) {
  const int64_t budget = bytes_before_injected_failure.load();
  if (budget < 0) return ::write(fd, data, n);
  if (budget == 0) {
    errno = ENOSPC;
    return -1;
  }
  const ssize_t written = ::write(fd, data, std::min(n, static_cast<size_t>(budget)));
  if (written > 0) bytes_before_injected_failure -= written;
  return written;
}

std::string system_error(const std::filesystem::path& path, const std::string& what) {
  return cat("cannot write ", path.string(), ": ", what, " failed: ", std::strerror(errno));
}

// "open" failed: with a hint when the cause is a symbolic link in the way.
std::string open_error(const std::filesystem::path& path) {
  return cat("cannot write ", path.string(), ": open failed: ", std::strerror(errno),
             errno == ELOOP ? " (a symbolic link is in its place; remove it)" : "");
}

// Makes the rename itself durable: without it a power cut can forget the new directory entry.
void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // some filesystems refuse to open directories; the data is already safe
  ::fsync(fd);
  ::close(fd);
}

// Closes the descriptor on every path out of the constructor.
struct Descriptor {
  int fd = -1;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

// Why: as root, `mmx modulators --out /dev/null` once renamed a PNG over the machine's /dev/null.
void refuse_special_file(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode) || S_ISLNK(st.st_mode) ||
      S_ISDIR(st.st_mode))
    return;  // missing, regular, a link or a folder: open() and rename() give their own errors
  throw Error(cat("cannot write ", path.string(),
                  ": it is a device, FIFO or socket, not a regular file; name a file to write "
                  "(the file is replaced whole, so writing through a device is not possible)"));
}

StagedFile::StagedFile(std::filesystem::path path, std::string_view bytes)
    : path_(std::move(path)), temp_(path_.string() + ".tmp") {
  refuse_special_file(path_);
  Descriptor file;
  file.fd = create_exclusively(temp_);
  try {
    size_t written = 0;
    while (written < bytes.size()) {
      const ssize_t n = checked_write(file.fd, bytes.data() + written, bytes.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw Error(system_error(path_, "write"));
      written += static_cast<size_t>(n);
    }
    if (::fsync(file.fd) != 0) throw Error(system_error(path_, "fsync"));
    const int fd = file.fd;
    file.fd = -1;
    if (::close(fd) != 0) throw Error(system_error(path_, "close"));
  } catch (...) {
    ::unlink(temp_.c_str());  // a constructor that throws gets no destructor call
    throw;
  }
  pending_ = true;
}

StagedFile::StagedFile(StagedFile&& other) noexcept
    : path_(std::move(other.path_)), temp_(std::move(other.temp_)), pending_(other.pending_) {
  other.pending_ = false;
}

StagedFile::~StagedFile() {
  if (pending_) ::unlink(temp_.c_str());
}

void StagedFile::commit() {
  MMX_CHECK(pending_, "cannot write ", path_.string(), ": nothing staged to commit");
  if (::rename(temp_.c_str(), path_.c_str()) != 0) throw Error(system_error(path_, "rename"));
  pending_ = false;
  sync_directory(path_.parent_path());
}

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  StagedFile(path, bytes).commit();
}

int create_exclusively(const std::filesystem::path& path) {
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::open(path.c_str(), kFlags, 0644);
  if (fd < 0 && errno == EEXIST) {
    // A file left by a killed writer goes; a symbolic link is refused (someone planted it). Once:
    // anything there again in between is an error, not a loop.
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) errno = ELOOP;
    if (errno != ELOOP && ::unlink(path.c_str()) == 0) fd = ::open(path.c_str(), kFlags, 0644);
  }
  if (fd < 0) throw Error(open_error(path));
  return fd;
}

int open_for_append(const std::filesystem::path& path, bool truncate) {
  const int fd = ::open(
      path.c_str(),
      O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644);
  if (fd < 0) throw Error(open_error(path));
  return fd;
}

void inject_write_failure_after(int64_t bytes) {
  bytes_before_injected_failure = bytes;
}

}  // namespace mmx::io
