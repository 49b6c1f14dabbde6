/// \file
/// Bounded reads of files the engine did not write itself: only regular files (a FIFO would
/// block forever, /dev/zero never ends), checked before opening, and never more than a stated
/// number of bytes, so a hostile path ends in a one-line error instead of a hang or bad_alloc.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace mmx::io {

/// The default cap of read_file_bytes: far above any header, manifest or log the engine writes.
inline constexpr int64_t kDefaultMaxFileBytes = int64_t{256} << 20;  // 256 MiB

/// Throws mmx::Error naming `path` unless it is (or a symlink resolves to) a regular file:
/// missing files, directories, FIFOs, sockets and devices are refused before anything opens them.
void require_regular_file(const std::filesystem::path& path);

/// A regular file opened for reading (never blocks on open), and its size at open time.
class InputFile {
 public:
  /// Throws mmx::Error naming `path` if it is not a regular file or cannot be opened.
  explicit InputFile(const std::filesystem::path& path);
  ~InputFile();  ///< closes the file
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  InputFile(InputFile&&) = delete;
  InputFile& operator=(InputFile&&) = delete;

  /// Bytes in the file when it was opened.
  int64_t size() const { return size_; }
  /// Reads up to `n` bytes into `out`; returns how many (0 at the end). Throws on a read error.
  int64_t read_some(char* out, int64_t n);

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  int64_t size_ = 0;
};

/// Reads a whole regular file of at most `max_bytes` bytes. Throws mmx::Error naming the file
/// if it is not a regular file, is larger than `max_bytes` (the message states the cap), or
/// cannot be opened or read.
std::string read_file_bytes(const std::filesystem::path& path,
                            int64_t max_bytes = kDefaultMaxFileBytes);

}  // namespace mmx::io
