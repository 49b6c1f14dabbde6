/// \file
/// DirectoryLock: one process at a time in a directory. An exclusive flock(2) on `dir/lock`,
/// whose content is the holder's pid; the kernel drops the lock when the holder dies, so a
/// killed process never leaves a stale lock behind.
#pragma once

#include <filesystem>

namespace mmx::io {

/// Holds the lock on a directory from construction to destruction.
class DirectoryLock {
 public:
  /// The lock file's name inside the locked directory.
  static constexpr const char* kFileName = "lock";

  /// Creates `dir` if needed and locks it at once (no waiting). Throws mmx::Error naming the
  /// directory and the pid of the process that holds it, or the system error. `what` names the
  /// caller in the message ("train").
  DirectoryLock(const std::filesystem::path& dir, const char* what);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace mmx::io
