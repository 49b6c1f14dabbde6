/// \file
/// Reading a task's options and a checkpoint's metadata from JSON, with errors that name the
/// field and where it came from.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/error.hpp"
#include "engine/io/json_input.hpp"
#include "nn/data/char_tokenizer.hpp"
#include "nn/data/checkpoint.hpp"

namespace mmx::nn {

/// meta[key] as T; a missing or mistyped field is an mmx::Error naming the checkpoint and key.
template <typename T>
T checkpoint_field(const nlohmann::json& meta, const char* key, const std::filesystem::path& dir) {
  try {
    return meta.at(key).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(cat("checkpoint ", dir.string(), ": metadata field '", key,
                    "' is missing or malformed (", io::json_error_text(e), ")"));
  }
}

/// The checkpoint's tokenizer (metadata "vocab"), checked against the model saved with it: each
/// of `tables` (the embeddings and the head) must have one row per id, `special_ids` plus one
/// per symbol. A tokenizer of another size, edited in with the hashes recomputed, would
/// otherwise decode wrong text, or fail later on a shape, without naming the tokenizer.
data::CharTokenizer saved_tokenizer(const data::Checkpoint& c, const std::filesystem::path& dir,
                                    std::initializer_list<const char*> tables,
                                    int64_t special_ids = 0);

/// Every key of `options` must exist in `defaults` (recursively, objects only); the result is
/// `defaults` with `options` written over it. `where` prefixes errors ("vit options").
nlohmann::json merge_known_fields(const nlohmann::json& defaults, const nlohmann::json& options,
                                  const std::string& where);

/// meta["train_options"] as T. A field T does not have is an error, not ignored: a checkpoint
/// whose options name one was edited, or written by another build.
template <typename T>
T saved_options(const nlohmann::json& meta, const std::filesystem::path& dir) {
  T options = checkpoint_field<T>(meta, "train_options", dir);
  const nlohmann::json fields = options;
  merge_known_fields(fields, meta["train_options"],
                     cat("checkpoint ", dir.string(), ": train_options"));
  return options;
}

/// Parses options JSON into T, turning nlohmann errors into an mmx::Error naming `where`.
template <typename T>
T parse_options(const nlohmann::json& json, const std::string& where) {
  try {
    return json.get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(cat(where, ": ", io::json_error_text(e)));
  }
}

}  // namespace mmx::nn
