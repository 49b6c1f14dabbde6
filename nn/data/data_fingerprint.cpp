#include "nn/data/data_fingerprint.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "engine/error.hpp"
#include "engine/io/read_file.hpp"

namespace mmx::data {
namespace {

class Fnv1a64 {
 public:
  void update(std::string_view bytes) {
    for (char c : bytes) {
      hash_ ^= static_cast<unsigned char>(c);
      hash_ *= 0x100000001b3ULL;
    }
  }
  std::string hex() const {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash_));
    return text;
  }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// Streams one file into the hash; returns its size. A regular file only: the data replaced by
// a FIFO or a link to a device since the run was saved must not block or never end.
int64_t hash_file(const std::filesystem::path& file, Fnv1a64& hash) {
  io::InputFile in(file);
  std::vector<char> buffer(1 << 16);
  int64_t size = 0;
  for (int64_t got; (got = in.read_some(buffer.data(), std::ssize(buffer))) > 0; size += got)
    hash.update(std::string_view(buffer.data(), static_cast<size_t>(got)));
  return size;
}

}  // namespace

std::string fnv1a64_hex(std::string_view bytes) {
  Fnv1a64 hash;
  hash.update(bytes);
  return hash.hex();
}

nlohmann::json DataFingerprint::to_json() const {
  return {{"path", path}, {"files", files}, {"bytes", bytes}, {"fnv1a64", fnv1a64}};
}

DataFingerprint DataFingerprint::from_json(const nlohmann::json& json) {
  DataFingerprint f;
  try {
    json.at("path").get_to(f.path);
    json.at("files").get_to(f.files);
    json.at("bytes").get_to(f.bytes);
    json.at("fnv1a64").get_to(f.fnv1a64);
  } catch (const nlohmann::json::exception& e) {
    throw Error(cat("data fingerprint: ", e.what(), " (expected path, files, bytes, fnv1a64)"));
  }
  return f;
}

DataFingerprint fingerprint_data(const std::filesystem::path& path) {
  DataFingerprint f{path.string(), 0, 0, ""};
  Fnv1a64 hash;
  if (!std::filesystem::is_directory(path)) {
    f.files = 1;
    f.bytes = hash_file(path, hash);
  } else {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(path))
      if (entry.is_regular_file()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const std::filesystem::path& file : files) {
      hash.update(file.lexically_relative(path).string());
      hash.update(std::string_view("\0", 1));
      f.bytes += hash_file(file, hash);
    }
    f.files = static_cast<int64_t>(files.size());
  }
  f.fnv1a64 = hash.hex();
  return f;
}

std::string data_change(const DataFingerprint& saved, const DataFingerprint& now) {
  if (saved.files != now.files) return cat(now.files, " files, was ", saved.files);
  if (saved.bytes != now.bytes) return cat(now.bytes, " bytes, was ", saved.bytes);
  if (saved.fnv1a64 != now.fnv1a64)
    return cat("same size, different content (hash ", now.fnv1a64, ", was ", saved.fnv1a64, ")");
  return "";
}

}  // namespace mmx::data
