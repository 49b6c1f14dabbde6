/// \file
/// safetensors I/O: the Hugging Face format (8-byte header length, JSON header, raw F32 data),
/// so any safetensors reader opens our files and we open theirs (F32 tensors only).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/tensor.hpp"

namespace mmx::io {

/// The largest safetensors file load_safetensors reads, in bytes.
inline constexpr int64_t kMaxSafetensorsFileBytes = int64_t{4} << 30;

/// Tensors in file order; names are unique and non-empty.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
/// The header's "__metadata__": the format allows only string values, so structured values
/// (configs, vocabularies) are stored JSON-encoded.
using StringMetadata = std::map<std::string, std::string>;

/// Everything a safetensors file holds.
struct SafetensorsContents {
  /// in the file's order
  NamedTensors tensors;
  /// the "__metadata__" entries
  StringMetadata metadata;

  const Tensor& tensor(const std::string& name) const;  ///< throws naming the missing tensor
};

/// The whole file as bytes: header padded with spaces to a multiple of 8 (as the reference
/// writer does), then each tensor's contiguous little-endian float32 data, packed in order.
std::string serialize_safetensors(const NamedTensors& tensors, const StringMetadata& metadata);

/// Checks everything before allocating anything: header length vs size, JSON, dtype (F32
/// only), shape vs byte span, offsets inside the data, packed without gaps or overlaps.
/// `label` (usually the file path) starts every error message.
SafetensorsContents parse_safetensors(std::string_view bytes, const std::string& label);

/// Atomic: writes `path.tmp`, fsyncs, renames. On failure the previous file is left intact.
void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const StringMetadata& metadata = {});
/// Reads and validates a whole file (parse_safetensors on its bytes); refuses a file that is not
/// regular or is over kMaxSafetensorsFileBytes.
SafetensorsContents load_safetensors(const std::filesystem::path& path);

}  // namespace mmx::io
