#include "engine/io/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/error.hpp"
#include "engine/io/atomic_write.hpp"
#include "engine/io/json_input.hpp"
#include "engine/io/read_file.hpp"

namespace mmx::io {

// The format is little-endian; we copy float bytes straight through.
static_assert(std::endian::native == std::endian::little,
              "safetensors I/O assumes a little-endian host");

namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference reader's limit
constexpr const char* kMetadataKey = "__metadata__";

void put_u64_le(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t get_u64_le(std::string_view bytes) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  return v;
}

// One header entry, validated but not yet read.
struct Entry {
  std::string name;
  Shape shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

uint64_t read_unsigned(const nlohmann::json& value, const std::string& label,
                       const std::string& what) {
  MMX_CHECK(value.is_number_unsigned(), "safetensors: ", label, ": ", what,
            " must be a non-negative integer, got ", json_excerpt(value));
  return value.get<uint64_t>();
}

Entry parse_entry(const std::string& name, const nlohmann::json& info, const std::string& label) {
  const std::string where = cat("tensor '", name, "'");
  MMX_CHECK(!name.empty(), "safetensors: ", label, ": a tensor has an empty name");
  MMX_CHECK(info.is_object(), "safetensors: ", label, ": ", where, ": entry is not an object");
  for (const char* key : {"dtype", "shape", "data_offsets"})
    MMX_CHECK(info.contains(key), "safetensors: ", label, ": ", where, ": missing \"", key, "\"");
  const auto& dtype = info["dtype"];
  MMX_CHECK(dtype.is_string(), "safetensors: ", label, ": ", where, ": dtype is not a string");
  MMX_CHECK(dtype.get<std::string>() == "F32", "safetensors: ", label, ": ", where, ": dtype ",
            dtype.get<std::string>().substr(0, kJsonExcerptBytes), " is not supported (only F32)");

  const auto& shape = info["shape"];
  MMX_CHECK(shape.is_array(), "safetensors: ", label, ": ", where, ": shape is not an array");
  Entry entry{name, {}, 0, 0};
  // Bytes the shape needs, with an overflow guard: a hostile shape must not wrap around.
  uint64_t nbytes = sizeof(float);
  bool overflow = false;
  for (const auto& dim : shape) {
    const uint64_t d = read_unsigned(dim, label, where + ": shape entry");
    MMX_CHECK(d <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()),
              "safetensors: ", label, ": ", where, ": dimension ", d, " is too large");
    entry.shape.push_back(static_cast<int64_t>(d));
    if (d != 0 && nbytes > std::numeric_limits<uint64_t>::max() / d) overflow = true;
    nbytes = overflow ? 0 : nbytes * d;
  }
  const bool empty = std::find(entry.shape.begin(), entry.shape.end(), 0) != entry.shape.end();
  if (empty) nbytes = 0, overflow = false;
  MMX_CHECK(!overflow, "safetensors: ", label, ": ", where, ": shape ", to_string(entry.shape),
            " is too large to address");

  const auto& offsets = info["data_offsets"];
  MMX_CHECK(offsets.is_array() && offsets.size() == 2, "safetensors: ", label, ": ", where,
            ": data_offsets must be [begin, end], got ", json_excerpt(offsets));
  entry.begin = read_unsigned(offsets[0], label, where + ": data_offsets");
  entry.end = read_unsigned(offsets[1], label, where + ": data_offsets");
  MMX_CHECK(entry.begin <= entry.end, "safetensors: ", label, ": ", where, ": data_offsets [",
            entry.begin, ", ", entry.end, "] run backwards");
  MMX_CHECK(entry.end - entry.begin == nbytes, "safetensors: ", label, ": ", where, ": shape ",
            to_string(entry.shape), " needs ", nbytes, " bytes but data_offsets [", entry.begin,
            ", ", entry.end, "] span ", entry.end - entry.begin);
  return entry;
}

StringMetadata parse_metadata(const nlohmann::json& meta, const std::string& label) {
  MMX_CHECK(meta.is_object(), "safetensors: ", label, ": __metadata__ is not an object");
  StringMetadata out;
  for (const auto& [key, value] : meta.items()) {
    MMX_CHECK(value.is_string(), "safetensors: ", label, ": __metadata__ value for '", key,
              "' is not a string (the format allows only strings)");
    out[key] = value.get<std::string>();
  }
  return out;
}

// The reference reader requires the tensors to tile the data section exactly; so do we.
// `entries` are sorted by offsets.
void check_layout(const std::vector<Entry>& entries, uint64_t data_bytes,
                  const std::string& label) {
  uint64_t cursor = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    MMX_CHECK(e.end <= data_bytes, "safetensors: ", label, ": tensor '", e.name,
              "': data_offsets [", e.begin, ", ", e.end, "] exceed the ", data_bytes,
              " data bytes in the file");
    MMX_CHECK(e.begin >= cursor, "safetensors: ", label, ": tensor '", e.name,
              "' overlaps tensor '", previous ? previous->name : "", "'");
    MMX_CHECK(e.begin == cursor, "safetensors: ", label, ": gap of ", e.begin - cursor,
              " bytes before tensor '", e.name, "'");
    cursor = e.end;
    previous = &e;
  }
  MMX_CHECK(cursor == data_bytes, "safetensors: ", label, ": ", data_bytes - cursor,
            " trailing data bytes not covered by any tensor");
}

}  // namespace

const Tensor& SafetensorsContents::tensor(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  throw Error(cat("safetensors: no tensor named '", name, "'"));
}

std::string serialize_safetensors(const NamedTensors& tensors, const StringMetadata& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    MMX_CHECK(!name.empty(), "save_safetensors: a tensor has an empty name");
    MMX_CHECK(name != kMetadataKey, "save_safetensors: '", name, "' is reserved");
    MMX_CHECK(seen.insert(name).second, "save_safetensors: duplicate tensor name '", name, "'");
    MMX_CHECK(t.defined(), "save_safetensors: tensor '", name, "' is undefined");
    const uint64_t nbytes = static_cast<uint64_t>(t.numel()) * sizeof(float);
    header[name] = {
        {"dtype", "F32"}, {"shape", t.shape()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8,
              ' ');  // keeps the data 8-byte aligned, as the reference does

  std::string out;
  out.reserve(8 + json.size() + offset);
  put_u64_le(out, json.size());
  out += json;
  // A strided tensor through its row-major copy: the io layer sits on the tensor alone, so not
  // the contiguous() op (which would also record on the tape).
  for (const auto& entry : tensors) {
    const Tensor& t = entry.second;
    if (t.is_contiguous()) {
      out.append(reinterpret_cast<const char*>(t.data()),
                 static_cast<size_t>(t.numel()) * sizeof(float));
    } else {
      const std::vector<float> dense = t.to_vector();
      out.append(reinterpret_cast<const char*>(dense.data()), dense.size() * sizeof(float));
    }
  }
  return out;
}

SafetensorsContents parse_safetensors(std::string_view bytes, const std::string& label) {
  MMX_CHECK(bytes.size() >= 8, "safetensors: ", label, ": file is ", bytes.size(),
            " bytes, too short for the 8-byte header length");
  const uint64_t header_bytes = get_u64_le(bytes);
  MMX_CHECK(header_bytes <= kMaxHeaderBytes, "safetensors: ", label, ": header length ",
            header_bytes, " exceeds the ", kMaxHeaderBytes, "-byte limit");
  MMX_CHECK(header_bytes <= bytes.size() - 8, "safetensors: ", label, ": header length ",
            header_bytes, " exceeds the ", bytes.size() - 8,
            " bytes after the length field (truncated file?)");
  const std::string_view text = bytes.substr(8, header_bytes);
  MMX_CHECK(!text.empty() && text[0] == '{', "safetensors: ", label,
            ": header does not start with '{'");
  const nlohmann::json header = parse_json(text, cat("safetensors: ", label, ": header"));
  MMX_CHECK(header.is_object(), "safetensors: ", label, ": header is not a JSON object");

  SafetensorsContents contents;
  std::vector<Entry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == kMetadataKey)
      contents.metadata = parse_metadata(info, label);
    else
      entries.push_back(parse_entry(name, info, label));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin < b.begin || (a.begin == b.begin && a.end < b.end);
  });
  const std::string_view data = bytes.substr(8 + header_bytes);
  check_layout(entries, data.size(), label);

  // Only now, with every size proven to fit inside the file, allocate. Data order is kept.
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape);
    std::memcpy(t.data(), data.data() + e.begin, e.end - e.begin);
    contents.tensors.emplace_back(e.name, std::move(t));
  }
  return contents;
}

void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const StringMetadata& metadata) {
  std::string bytes;
  try {
    bytes = serialize_safetensors(tensors, metadata);
  } catch (const Error& e) {
    throw Error(cat("cannot write ", path.string(), ": ", e.what()));
  }
  write_file_atomically(path, bytes);
}

SafetensorsContents load_safetensors(const std::filesystem::path& path) {
  return parse_safetensors(read_file_bytes(path, kMaxSafetensorsFileBytes), path.string());
}

}  // namespace mmx::io
