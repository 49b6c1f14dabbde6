/// \file
/// JSON from files (safetensors headers, checkpoint manifests and metadata, training logs):
/// parsed in this one place with a nesting limit, and quoted in errors only as a short excerpt.
/// nlohmann's dump() recurses once per level, so 50,000 nested '[' would overflow the stack in an
/// error message; its exceptions ("[json.exception.type_error.302] ...") are reworded here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "engine/error.hpp"

namespace mmx::io {

/// The deepest nesting of arrays and objects parse_json accepts (the engine writes at most 4).
inline constexpr int kMaxJsonDepth = 64;
/// The longest excerpt of a value json_excerpt quotes, in bytes.
inline constexpr size_t kJsonExcerptBytes = 60;

/// Parses `text`. Throws mmx::Error starting with `label` (the file, and the field if any) when
/// it is not valid JSON or nests deeper than kMaxJsonDepth.
nlohmann::json parse_json(std::string_view text, const std::string& label);

/// As parse_json, but text that is not JSON at all gives std::nullopt (a log line cut short by
/// a crash, a metadata string another tool wrote); nesting deeper than kMaxJsonDepth still throws.
std::optional<nlohmann::json> parse_json_if_valid(std::string_view text, const std::string& label);

/// `value` serialized and cut to kJsonExcerptBytes ("..." marks a cut): for error messages.
/// Invalid UTF-8 in strings is replaced, never thrown about.
std::string json_excerpt(const nlohmann::json& value);

/// An nlohmann exception's message without its "[json.exception.type_error.302] " prefix.
std::string json_error_text(const nlohmann::json::exception& error);

/// object[key] as T. Throws mmx::Error "<label>: field '<key>' is missing" or "<label>: field
/// '<key>' must be <what is expected>, got <excerpt>". Numbers are not coerced: a float is not
/// read as an integer, and an integer must fit T (a negative one is not read as unsigned).
template <typename T>
T json_field(const nlohmann::json& object, const char* key, const std::string& label) {
  MMX_CHECK(object.is_object() && object.contains(key), label, ": field '", key, "' is missing");
  const nlohmann::json& value = object[key];
  const auto refuse = [&](const auto&... expected) {
    return Error(
        cat(label, ": field '", key, "' must be ", expected..., ", got ", json_excerpt(value)));
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) throw refuse("true or false");
  } else if constexpr (std::is_integral_v<T>) {
    using Limits = std::numeric_limits<T>;
    const bool fits = value.is_number_unsigned()
                          ? value.get<uint64_t>() <= static_cast<uint64_t>(Limits::max())
                          : value.is_number_integer() &&
                                value.get<int64_t>() >= int64_t{Limits::min()} &&
                                (Limits::max() > uint64_t{INT64_MAX} ||
                                 value.get<int64_t>() <= static_cast<int64_t>(Limits::max()));
    if (!fits) throw refuse("an integer from ", +Limits::min(), " to ", +Limits::max());
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!value.is_number()) throw refuse("a number");
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!value.is_string()) throw refuse("a string");
  }
  try {
    return value.get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(
        cat(label, ": field '", key, "': ", json_error_text(e), ", got ", json_excerpt(value)));
  }
}

}  // namespace mmx::io
