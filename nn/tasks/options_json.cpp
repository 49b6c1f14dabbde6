#include "nn/tasks/options_json.hpp"

#include "engine/io/json_input.hpp"

namespace mmx::nn {

nlohmann::json merge_known_fields(const nlohmann::json& defaults, const nlohmann::json& options,
                                  const std::string& where) {
  MMX_CHECK(options.is_object(), where, ": expected a JSON object, got ", options.dump());
  nlohmann::json merged = defaults;
  for (const auto& [key, value] : options.items()) {
    MMX_CHECK(defaults.contains(key), where, ": unknown field '", key, "'");
    if (defaults[key].is_object())
      merged[key] = merge_known_fields(defaults[key], value, where + "." + key);
    else
      merged[key] = value;
  }
  return merged;
}

}  // namespace mmx::nn
