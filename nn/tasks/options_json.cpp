#include "nn/tasks/options_json.hpp"

#include <algorithm>

#include "engine/io/json_input.hpp"

namespace mmx::nn {

data::CharTokenizer saved_tokenizer(const data::Checkpoint& c, const std::filesystem::path& dir,
                                    std::initializer_list<const char*> tables,
                                    int64_t special_ids) {
  data::CharTokenizer tokenizer = data::CharTokenizer::from_json(
      checkpoint_field<nlohmann::json>(c.model_metadata, "vocab", dir));
  const int64_t ids = tokenizer.vocab_size() + special_ids;
  for (const char* name : tables) {
    const auto entry = std::find_if(c.model.begin(), c.model.end(),
                                    [&](const auto& named) { return named.first == name; });
    // A missing table, or one without rows, is load_state_dict's to name.
    if (entry == c.model.end() || entry->second.dim() == 0) continue;
    const int64_t rows = entry->second.size(0);
    MMX_CHECK(rows == ids, "checkpoint ", dir.string(), ": its tokenizer has ", ids,
              " ids but the model's '", name, "' has ", rows,
              " rows: the tokenizer does not belong to this model (was model.safetensors edited? "
              "restore the file mmx train wrote)");
  }
  return tokenizer;
}

nlohmann::json merge_known_fields(const nlohmann::json& defaults, const nlohmann::json& options,
                                  const std::string& where) {
  MMX_CHECK(options.is_object(), where, ": expected a JSON object, got ",
            io::json_excerpt(options));
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
