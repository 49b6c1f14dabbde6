// A CLI11 validator for integer flags: the text must be a whole number in [min, max], written
// out in digits. CLI11's own conversion wraps "-1" into a huge unsigned seed and takes values
// past the type's range; this refuses them with the range in the message.
#pragma once

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <string>

namespace mmx::cli {

inline CLI::Validator whole_number(int64_t min, int64_t max) {
  const std::string range = std::to_string(min) + " to " + std::to_string(max);
  return CLI::Validator(
      [min, max, range](std::string& text) -> std::string {
        int64_t value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        const bool whole = error == std::errc() && end == text.data() + text.size();
        if (whole && value >= min && value <= max) return "";
        return "'" + text.substr(0, 40) + "' is not a whole number from " + range;
      },
      "INT in [" + range + "]");
}

}  // namespace mmx::cli
