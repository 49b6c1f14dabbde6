#include "engine/io/json_input.hpp"

namespace mmx::io {
namespace {

// Thrown from the parser's callback to stop at the first level too deep.
struct TooDeep {};

nlohmann::json parse_with_depth_limit(std::string_view text, const std::string& label) {
  const auto limit_depth = [](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    const bool opens = event == nlohmann::json::parse_event_t::object_start ||
                       event == nlohmann::json::parse_event_t::array_start;
    if (opens && depth >= kMaxJsonDepth) throw TooDeep{};
    return true;
  };
  try {
    return nlohmann::json::parse(text, limit_depth, /*allow_exceptions=*/false);
  } catch (const TooDeep&) {
    throw Error(cat(label, " nests JSON arrays or objects more than ", kMaxJsonDepth,
                    " levels deep (the limit for files this program reads)"));
  }
}

}  // namespace

nlohmann::json parse_json(std::string_view text, const std::string& label) {
  nlohmann::json value = parse_with_depth_limit(text, label);
  MMX_CHECK(!value.is_discarded(), label, " is not valid JSON: ",
            json_excerpt(nlohmann::json(std::string(text.substr(0, kJsonExcerptBytes)))));
  return value;
}

std::optional<nlohmann::json> parse_json_if_valid(std::string_view text, const std::string& label) {
  nlohmann::json value = parse_with_depth_limit(text, label);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

std::string json_excerpt(const nlohmann::json& value) {
  // Values come from parse_json, so dump()'s recursion is bounded by kMaxJsonDepth.
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() <= kJsonExcerptBytes) return text;
  text.resize(kJsonExcerptBytes);
  return text + "...";
}

std::string json_error_text(const nlohmann::json::exception& error) {
  const std::string_view message = error.what();
  const size_t close = message.find("] ");
  return std::string(close == std::string_view::npos ? message : message.substr(close + 2));
}

}  // namespace mmx::io
