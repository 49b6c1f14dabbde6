/// \file
/// Reading the fields of a model config's JSON (checkpoint metadata): each value converted to its
/// type, or an mmx::Error naming the config and the key. Shared by every *Config's from_json.
#pragma once

#include <nlohmann/json.hpp>

#include "engine/error.hpp"
#include "engine/io/json_input.hpp"

namespace mmx::nn {

/// Reads one config's JSON fields, with errors naming the config and the field.
struct ConfigReader {
  /// the config object being read
  const nlohmann::json& json;
  const char* config;  ///< "GPTConfig", ... : the start of every error message

  template <typename T>
  /// Field `key` as a T, not coerced (io::json_field: `layers: 1.9` is refused, not read as 1); a
  /// missing field or a wrong type is an mmx::Error naming the config and the field.
  T get(const char* key) const {
    return io::json_field<T>(json, key, config);
  }

  template <typename T>
  /// As get, but a missing field is `absent`: for fields added after checkpoints without them
  /// were written. A present field of the wrong type is still an mmx::Error.
  T get_or(const char* key, T absent) const {
    return json.contains(key) ? get<T>(key) : absent;
  }
};

}  // namespace mmx::nn
