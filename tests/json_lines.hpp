// The JSON objects a `mmx ... --json` run printed, one per non-empty line, in order: what the
// bench CLI tests read the rows from.
#pragma once

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/mmx_cli.hpp"

inline std::vector<nlohmann::ordered_json> json_lines(const std::string& text) {
  std::vector<nlohmann::ordered_json> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(nlohmann::ordered_json::parse(line));
  return rows;
}

// The keys of a JSON object, in the order they were printed.
inline std::vector<std::string> json_keys(const nlohmann::ordered_json& row) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : row.items()) keys.push_back(key);
  return keys;
}

// Runs `mmx <arguments>` (stderr dropped), which must exit 0 and print exactly `count` JSON rows,
// and returns them.
inline std::vector<nlohmann::ordered_json> mmx_json_rows(const std::string& arguments,
                                                         size_t count) {
  INFO("mmx " << arguments);
  const CliResult r = run_mmx(arguments, false);
  REQUIRE(r.exit_code == 0);
  std::vector<nlohmann::ordered_json> rows = json_lines(r.output);
  REQUIRE(rows.size() == count);
  return rows;
}
