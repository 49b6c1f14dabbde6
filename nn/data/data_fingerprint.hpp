/// \file
/// DataFingerprint: the size and content hash of a run's data (a file, or every file under a
/// folder). A checkpoint records it, so that a resume on data changed since (same path, new
/// text) is refused instead of training on it without a word.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace mmx::data {

/// FNV-1a 64-bit, as 16 lowercase hex digits: a fast content hash, enough to tell one file's
/// bytes from another's (not for security).
std::string fnv1a64_hex(std::string_view bytes);

/// What identifies a run's data.
struct DataFingerprint {
  std::string path;     ///< the data as the run's options name it
  int64_t files = 0;    ///< 1 for a file; the regular files under a folder
  int64_t bytes = 0;    ///< their total size
  std::string fnv1a64;  ///< their contents (a folder's with each file's relative name)

  /// Keys: path, files, bytes, fnv1a64.
  nlohmann::json to_json() const;
  /// The inverse of to_json; an mmx::Error names a missing or mistyped field.
  static DataFingerprint from_json(const nlohmann::json& json);
};

/// Reads `path` (a file, or a folder's regular files in name order, recursively) as a stream.
/// Throws mmx::Error naming the file it cannot read.
DataFingerprint fingerprint_data(const std::filesystem::path& path);

/// "" when `now` equals `saved`; otherwise what changed, in words ("12000 bytes, was 11800"),
/// for an error that names the data.
std::string data_change(const DataFingerprint& saved, const DataFingerprint& now);

}  // namespace mmx::data
