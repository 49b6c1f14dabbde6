// Atomic file replacement: write `path.tmp`, fsync, rename over `path`, fsync the directory.
// A crash or a failed write never leaves a half-written `path`; the previous file stays intact.
#pragma once

#include <filesystem>
#include <string_view>

namespace mmx::io {

// Replaces `path` with `bytes`. Throws mmx::Error naming the file and the system error
// (full disk, read-only directory, missing directory, ...); the temporary file is removed.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

// Reads a whole file. Throws mmx::Error naming the file if it cannot be opened or read.
std::string read_file_bytes(const std::filesystem::path& path);

}  // namespace mmx::io
