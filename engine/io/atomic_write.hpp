/// \file
/// Atomic file replacement: write `path.tmp`, fsync, rename over `path`, fsync the directory.
/// A crash or a failed write never leaves a half-written `path`; the previous file stays intact.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace mmx::io {

/// A file written in full and fsynced as `path.tmp`, not yet visible under `path`. Several
/// files staged first and committed after fail together on a full disk: nothing is replaced
/// until every byte has been written. Destroying an uncommitted StagedFile removes `path.tmp`.
class StagedFile {
 public:
  /// Throws mmx::Error naming `path` and the system error (full disk, read-only directory, ...),
  /// or when `path` is a device, FIFO or socket (which the rename would replace).
  StagedFile(std::filesystem::path path, std::string_view bytes);
  ~StagedFile();
  /// Takes over the staged temporary; `other` no longer owns it.
  StagedFile(StagedFile&& other) noexcept;
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;
  StagedFile& operator=(StagedFile&&) = delete;

  /// Renames `path.tmp` over `path` (one atomic step) and makes the rename durable.
  void commit();

 private:
  std::filesystem::path path_;
  std::filesystem::path temp_;
  bool pending_ = false;  ///< `temp_` exists and is ours to remove
};

/// Replaces `path` with `bytes`: StagedFile(path, bytes).commit(). Throws mmx::Error naming the
/// file and the system error; the temporary file is removed and the previous file kept.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

/// Throws an mmx::Error naming `path` when a device, FIFO or socket is there: a file written
/// whole and renamed into place would replace it with a regular file. Missing paths, regular
/// files, links and folders pass (open and rename report those themselves).
void refuse_special_file(const std::filesystem::path& path);

/// Creates `path` for writing (a new, empty file; O_CLOEXEC), never through a symbolic link: a
/// file already there (left by a killed writer) is removed first; a symbolic link there is an
/// mmx::Error naming the file, as is any other failure. Returns the descriptor.
int create_exclusively(const std::filesystem::path& path);

/// Opens `path` for appending (created if missing, emptied first when `truncate`), refusing a
/// symbolic link there (mmx::Error naming the file). Returns the descriptor (O_CLOEXEC).
int open_for_append(const std::filesystem::path& path, bool truncate);

/// Fault injection for tests: after `bytes` more bytes have gone to temporary files (counted
/// across calls), every write fails with ENOSPC as on a full disk; a negative value (the
/// default) turns it off. Lets a test stop a checkpoint save at any byte without a real disk.
void inject_write_failure_after(int64_t bytes);

}  // namespace mmx::io
