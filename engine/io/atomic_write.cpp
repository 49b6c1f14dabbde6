#include "engine/io/atomic_write.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "engine/error.hpp"

namespace mmx::io {
namespace {

std::string system_error(const std::filesystem::path& path, const char* what) {
  return cat("cannot write ", path.string(), ": ", what, " failed: ", std::strerror(errno));
}

// Closes the descriptor and removes the temporary file unless the write was committed.
struct TempFile {
  std::filesystem::path path;
  int fd = -1;
  bool committed = false;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!committed) ::unlink(path.c_str());
  }
};

// Makes the rename itself durable: without it a power cut can forget the new directory entry.
void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // some filesystems refuse to open directories; the data is already safe
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  TempFile tmp{std::filesystem::path(path.string() + ".tmp")};
  tmp.fd = ::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (tmp.fd < 0) {
    tmp.committed = true;  // nothing was created, so there is nothing of ours to remove
    throw Error(system_error(path, cat("open(", tmp.path.string(), ")").c_str()));
  }
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(tmp.fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(system_error(path, "write"));
    written += static_cast<size_t>(n);
  }
  if (::fsync(tmp.fd) != 0) throw Error(system_error(path, "fsync"));
  const int fd = tmp.fd;
  tmp.fd = -1;
  if (::close(fd) != 0) throw Error(system_error(path, "close"));
  if (::rename(tmp.path.c_str(), path.c_str()) != 0) throw Error(system_error(path, "rename"));
  tmp.committed = true;
  sync_directory(path.parent_path());
}

std::string read_file_bytes(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(cat("cannot read ", path.string(), ": is a directory"));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(cat("cannot open ", path.string(), ": ", std::strerror(errno)));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(cat("cannot read ", path.string()));
  return bytes;
}

}  // namespace mmx::io
