/// \file
/// Reading the fields of a model config's JSON (checkpoint metadata): each value converted to its
/// type, or an mmx::Error naming the config and the key. Shared by every *Config's from_json.
#pragma once

#include <nlohmann/json.hpp>

#include "engine/error.hpp"

namespace mmx::nn {

/// Reads one config's JSON fields, with errors naming the config and the field.
struct ConfigReader {
  /// the config object being read
  const nlohmann::json& json;
  const char* config;  ///< "GPTConfig", ... : the start of every error message

  template <typename T>
  /// Field `key` as a T; a missing field or a wrong type is an mmx::Error.
  T get(const char* key) const {
    MMX_CHECK(json.is_object() && json.contains(key), config, ": JSON lacks field '", key, "'");
    try {
      return json.at(key).get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw Error(cat(config, ": field '", key, "' has the wrong type: ", e.what()));
    }
  }
};

}  // namespace mmx::nn
