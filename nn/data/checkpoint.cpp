#include "nn/data/checkpoint.hpp"

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "engine/error.hpp"
#include "engine/io/atomic_write.hpp"
#include "engine/io/json_input.hpp"
#include "engine/io/read_file.hpp"
#include "nn/data/data_fingerprint.hpp"

namespace mmx::data {
namespace fs = std::filesystem;
namespace {

constexpr const char* kFormat = "mmx-checkpoint";
constexpr int kVersion = 1;
constexpr const char* kStepKey = "mmx.step";
constexpr const char* kReservedPrefix = "mmx.";
// The previous checkpoint's files while a save renames the new ones in (see back_up_current).
constexpr const char* kPreviousSuffix = ".prev";
// The manifest names two files: a few hundred bytes. Anything near this is not ours.
constexpr int64_t kMaxManifestBytes = int64_t{1} << 20;

std::string hex64(uint64_t word) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(word));
  return hex;
}

io::StringMetadata encode_metadata(const nlohmann::json& metadata, int64_t step, const char* file) {
  MMX_CHECK(metadata.is_object(), "save_checkpoint: ", file,
            " metadata must be a JSON object, got ", metadata.type_name());
  io::StringMetadata out;
  for (const auto& [key, value] : metadata.items()) {
    MMX_CHECK(key.rfind(kReservedPrefix, 0) != 0, "save_checkpoint: ", file, " metadata key '", key,
              "' uses the reserved prefix \"mmx.\"");
    out[key] = value.dump();
  }
  out[kStepKey] = std::to_string(step);
  return out;
}

// Values are JSON-encoded by us; one written by another tool that is not JSON comes back as a
// string.
nlohmann::json decode_metadata(const io::StringMetadata& metadata, const std::string& label) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, text] : metadata) {
    if (key.rfind(kReservedPrefix, 0) == 0) continue;
    std::optional<nlohmann::json> value =
        io::parse_json_if_valid(text, cat(label, ": metadata '", key, "'"));
    out[key] = value ? std::move(*value) : nlohmann::json(text);
  }
  return out;
}

// Stages one safetensors file (written and fsynced, not yet renamed) and records its entry.
io::StagedFile stage_part(const fs::path& dir, const char* file, const io::NamedTensors& tensors,
                          const nlohmann::json& metadata, int64_t step, nlohmann::json& manifest) {
  const fs::path path = dir / file;
  std::string bytes;
  try {
    bytes = io::serialize_safetensors(tensors, encode_metadata(metadata, step, file));
  } catch (const Error& e) {
    throw Error(cat("cannot write ", path.string(), ": ", e.what()));
  }
  manifest["files"][file] = {{"bytes", bytes.size()}, {"fnv1a64", fnv1a64_hex(bytes)}};
  return io::StagedFile(path, bytes);
}

// `suffix` is "" for the checkpoint itself and kPreviousSuffix for its backup; the manifest
// names files without it.
io::SafetensorsContents load_part(const fs::path& dir, const char* file, const std::string& suffix,
                                  const nlohmann::json& manifest, int64_t step) {
  const fs::path path = dir / (file + suffix);
  const std::string where = path.string();
  const std::string manifest_path = (dir / (kManifestFile + suffix)).string();
  MMX_CHECK(manifest.contains("files") && manifest["files"].is_object() &&
                manifest["files"].contains(file),
            "load_checkpoint: ", manifest_path, " has no entry for ", file);
  const nlohmann::json& entry = manifest["files"][file];
  MMX_CHECK(entry.is_object() && entry.contains("bytes") && entry["bytes"].is_number_unsigned() &&
                entry.contains("fnv1a64") && entry["fnv1a64"].is_string(),
            "load_checkpoint: ", manifest_path, ": the entry for ", file,
            " needs \"bytes\" and \"fnv1a64\"");
  const std::string bytes = io::read_file_bytes(path, io::kMaxSafetensorsFileBytes);
  const bool same = entry["bytes"].get<uint64_t>() == bytes.size() &&
                    entry["fnv1a64"].get<std::string>() == fnv1a64_hex(bytes);
  MMX_CHECK(same, "load_checkpoint: ", where, " does not match ", kManifestFile,
            " (size or content hash differs): the file was changed, or a save was interrupted");
  io::SafetensorsContents contents = io::parse_safetensors(bytes, where);
  const auto it = contents.metadata.find(kStepKey);
  MMX_CHECK(it != contents.metadata.end(), "load_checkpoint: ", where, " has no \"", kStepKey,
            "\" metadata");
  MMX_CHECK(it->second == std::to_string(step), "load_checkpoint: ", where, " is from step ",
            it->second, " but ", kManifestFile, " says step ", step);
  return contents;
}

// The checkpoint (suffix "") or its backup (kPreviousSuffix), validated whole.
Checkpoint load_set(const fs::path& dir, const std::string& suffix) {
  const fs::path manifest_path = dir / (kManifestFile + suffix);
  const std::string where = manifest_path.string();
  std::error_code ec;
  MMX_CHECK(fs::exists(manifest_path, ec), "load_checkpoint: ", where,
            " is missing: not a checkpoint directory, or its first save was interrupted");
  const nlohmann::json manifest = io::parse_json(
      io::read_file_bytes(manifest_path, kMaxManifestBytes), cat("load_checkpoint: ", where));
  MMX_CHECK(manifest.is_object(), "load_checkpoint: ", where, " is not a JSON object");
  MMX_CHECK(manifest.contains("format") && manifest["format"] == kFormat,
            "load_checkpoint: ", where, " is not an ", kFormat, " manifest");
  MMX_CHECK(manifest.contains("version") && manifest["version"] == kVersion,
            "load_checkpoint: ", where, " has version ",
            io::json_excerpt(manifest.value("version", nlohmann::json())),
            "; this build reads version ", kVersion);
  MMX_CHECK(manifest.contains("step") && manifest["step"].is_number_integer() &&
                manifest["step"].get<int64_t>() >= 0,
            "load_checkpoint: ", where, " has no valid \"step\"");
  const int64_t step = manifest["step"].get<int64_t>();

  io::SafetensorsContents model = load_part(dir, kModelFile, suffix, manifest, step);
  io::SafetensorsContents optimizer = load_part(dir, kOptimizerFile, suffix, manifest, step);
  Checkpoint out;
  out.step = step;
  out.model = std::move(model.tensors);
  out.model_metadata = decode_metadata(model.metadata, (dir / (kModelFile + suffix)).string());
  out.optimizer = std::move(optimizer.tensors);
  out.optimizer_metadata =
      decode_metadata(optimizer.metadata, (dir / (kOptimizerFile + suffix)).string());
  return out;
}

bool has_backup(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / (std::string(kManifestFile) + kPreviousSuffix), ec);
}

// Manifest first: without its manifest a backup is no longer considered complete.
void drop_backup(const fs::path& dir) {
  std::error_code ignored;
  for (const char* file : {kManifestFile, kModelFile, kOptimizerFile})
    fs::remove(dir / (std::string(file) + kPreviousSuffix), ignored);
}

// Keeps the current checkpoint reachable as *.prev while the new files are renamed in: hard
// links cost no space (a copy where the filesystem has none). The manifest is linked last, so
// a backup with a manifest is complete. Best effort: a checkpoint that cannot be linked is
// already unreadable, and the save goes on.
void back_up_current(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir / kManifestFile, ec)) return;  // first save: nothing to protect
  if (has_backup(dir)) {
    // A save was interrupted before. Its backup is the good one unless the checkpoint loads.
    try {
      load_set(dir, "");
    } catch (const Error&) {
      return;
    }
  }
  drop_backup(dir);
  try {
    for (const char* file : {kModelFile, kOptimizerFile, kManifestFile}) {
      const fs::path from = dir / file;
      const fs::path to = dir / (std::string(file) + kPreviousSuffix);
      fs::create_hard_link(from, to, ec);
      if (ec)
        io::write_file_atomically(to, io::read_file_bytes(from, io::kMaxSafetensorsFileBytes));
    }
  } catch (const Error&) {
    drop_backup(dir);
  }
}

}  // namespace

void save_checkpoint(const fs::path& dir, const Checkpoint& checkpoint) {
  MMX_CHECK(checkpoint.step >= 0, "save_checkpoint: step ", checkpoint.step, " is negative");
  std::error_code ec;
  fs::create_directories(dir, ec);
  MMX_CHECK(fs::is_directory(dir), "save_checkpoint: cannot create directory ", dir.string(),
            ec ? ": " + ec.message() : std::string());
  // Every byte is written before anything is replaced: a full or read-only disk fails here
  // and leaves the previous checkpoint as it was.
  nlohmann::json manifest = {{"format", kFormat}, {"version", kVersion}, {"step", checkpoint.step}};
  std::vector<io::StagedFile> staged;
  staged.push_back(stage_part(dir, kModelFile, checkpoint.model, checkpoint.model_metadata,
                              checkpoint.step, manifest));
  staged.push_back(stage_part(dir, kOptimizerFile, checkpoint.optimizer,
                              checkpoint.optimizer_metadata, checkpoint.step, manifest));
  staged.emplace_back(dir / kManifestFile, manifest.dump(2) + "\n");
  // The renames are the one moment a kill leaves a mixed set; the backup covers it.
  back_up_current(dir);
  for (io::StagedFile& file : staged) file.commit();  // manifest last
  drop_backup(dir);
}

namespace {
// The checkpoint, or its backup when a save that broke it was interrupted (or is under way).
Checkpoint load_current_or_backup(const fs::path& dir) {
  try {
    return load_set(dir, "");
  } catch (const Error&) {
    if (!has_backup(dir)) throw;
    try {
      return load_set(dir, kPreviousSuffix);
    } catch (const Error&) {
    }
    throw;  // the checkpoint's own error says more than the backup's
  }
}

// The manifest's bytes ("" when there is none): what tells one save from the next.
std::string manifest_bytes(const fs::path& dir) {
  try {
    return io::read_file_bytes(dir / kManifestFile);
  } catch (const Error&) {
    return "";
  }
}

// Reads racing saves every step in a test never needed more than a few; the bound only stops
// a reader from chasing a writer forever.
constexpr int kReadAttempts = 100;
}  // namespace

Checkpoint load_checkpoint(const fs::path& dir) {
  std::error_code ec;
  MMX_CHECK(fs::is_directory(dir, ec), "load_checkpoint: ", dir.string(), " is not a directory");
  // A save running beside this read (a live run) renames its files in one after another, and
  // drops the backup once its manifest is in: a read that overlapped it can meet a mixed set.
  // The manifest has then changed since the read began, and the read starts again; a failure
  // with the manifest unchanged is the checkpoint's own (the backup covers a save in progress).
  for (int attempt = 1;; ++attempt) {
    const std::string before = manifest_bytes(dir);
    try {
      return load_current_or_backup(dir);
    } catch (const Error&) {
      if (attempt == kReadAttempts || manifest_bytes(dir) == before) throw;
    }
  }
}

bool checkpoint_present(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / kManifestFile, ec) || has_backup(dir);
}

void remove_checkpoint(const fs::path& dir) {
  std::error_code ignored;
  for (const char* file : {kManifestFile, kModelFile, kOptimizerFile}) {
    fs::remove(dir / file, ignored);
    fs::remove(dir / (std::string(file) + ".tmp"), ignored);
  }
  drop_backup(dir);
}

nlohmann::json generator_state_to_json(const Generator::State& state) {
  nlohmann::json out = nlohmann::json::array();
  for (uint64_t word : state) out.push_back(hex64(word));
  return out;
}

Generator::State generator_state_from_json(const nlohmann::json& json) {
  MMX_CHECK(json.is_array() && json.size() == 4, "generator state: expected 4 hex strings, got ",
            io::json_excerpt(json));
  Generator::State state{};
  for (size_t i = 0; i < 4; ++i) {
    const bool ok =
        json[i].is_string() && json[i].get<std::string>().size() == 16 &&
        json[i].get<std::string>().find_first_not_of("0123456789abcdef") == std::string::npos;
    MMX_CHECK(ok, "generator state: word ", i, " (", io::json_excerpt(json[i]),
              ") is not 16 lowercase hex digits");
    state[i] = std::stoull(json[i].get<std::string>(), nullptr, 16);
  }
  // xoshiro256 never leaves the all-zero state: every draw would be 0, one batch forever.
  MMX_CHECK(state != Generator::State{},
            "generator state: all four words are zero, which no generator reaches; the "
            "checkpoint was edited or damaged");
  return state;
}

}  // namespace mmx::data
