/// \file
/// Checkpoint: a directory holding model.safetensors, optimizer.safetensors and a manifest,
/// checkpoint.json, written last, that ties the pair together (step, sizes, content hashes).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/io/safetensors.hpp"
#include "engine/random.hpp"

namespace mmx::data {

/// The checkpoint directory's model weights file.
inline constexpr const char* kModelFile = "model.safetensors";
/// The checkpoint directory's optimizer state file.
inline constexpr const char* kOptimizerFile = "optimizer.safetensors";
/// The manifest, written last: sizes and hashes of the other two.
inline constexpr const char* kManifestFile = "checkpoint.json";

/// What one checkpoint directory holds.
struct Checkpoint {
  /// the optimizer steps taken when it was saved
  int64_t step = 0;
  io::NamedTensors model;  ///< e.g. "tok.weight", "blocks.0.attn.qkv.weight"
  ///@{
  /// Any JSON object (config, vocab, rng state, ...). Each top-level value is stored JSON-encoded
  /// as one safetensors metadata string; keys starting with "mmx." are reserved.
  nlohmann::json model_metadata = nlohmann::json::object();
  io::NamedTensors optimizer;  ///< optimizer state tensors (moments, ...), may be empty
  nlohmann::json optimizer_metadata = nlohmann::json::object();
  ///@}
};

/// Creates `dir` if needed. All three files are written and fsynced as temporaries first, so a
/// full or read-only disk fails before anything is replaced. They are then renamed in, manifest
/// last, while the previous checkpoint stays reachable as hard links named *.prev (removed once
/// the new set is complete): a kill at any moment leaves a loadable checkpoint.
void save_checkpoint(const std::filesystem::path& dir, const Checkpoint& checkpoint);

/// Validates everything (manifest, sizes, hashes, both files, steps) before returning: a
/// checkpoint loads whole or throws an mmx::Error naming the file and the problem. When a save
/// was interrupted mid-rename the *.prev backup is loaded instead (its step tells which).
Checkpoint load_checkpoint(const std::filesystem::path& dir);

/// Whether `dir` holds a checkpoint, whole or not (its manifest, or the backup of one).
bool checkpoint_present(const std::filesystem::path& dir);

/// Removes the checkpoint in `dir` (its files, backups and temporaries), manifest first.
void remove_checkpoint(const std::filesystem::path& dir);

/// The generator's 256-bit state as four hex strings (exact in JSON, whatever the reader).
nlohmann::json generator_state_to_json(const Generator::State& state);
/// The inverse of generator_state_to_json.
Generator::State generator_state_from_json(const nlohmann::json& json);

}  // namespace mmx::data
