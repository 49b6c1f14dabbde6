/// \file
/// read_idx: the IDX format of (Fashion-)MNIST, plain or gzipped (zlib detects which). Only
/// unsigned-byte data (type 0x08) is accepted; every problem is an mmx::Error naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace mmx::data {

/// An n-d array of bytes as stored: dims[0] is the item count (images, labels), row-major.
struct IdxArray {
  /// sizes per axis, dims[0] the item count
  std::vector<int64_t> dims;
  /// the bytes, row-major
  std::vector<uint8_t> values;

  /// The number of bytes.
  int64_t numel() const { return static_cast<int64_t>(values.size()); }
};

/// The largest payload read_idx accepts by default (Fashion-MNIST's train images are 47 MB).
inline constexpr int64_t kIdxDefaultMaxBytes = int64_t{1} << 31;

/// Reads the header (magic 0x00 0x00, type, rank; then `rank` big-endian uint32 dims), checks
/// that the payload the dims claim is at most `max_bytes` before allocating anything, then reads
/// exactly that payload and requires the file to end there. Truncated, malformed or corrupt
/// (gzip CRC) files are mmx::Errors naming the file and the problem.
IdxArray read_idx(const std::filesystem::path& path, int64_t max_bytes = kIdxDefaultMaxBytes);

}  // namespace mmx::data
