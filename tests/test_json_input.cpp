// engine/io/json_input and engine/io/read_file: the one JSON reader (nesting limit, bounded
// excerpts, fields read without coercion) and the bounded file reader (regular files only, a cap).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "engine/error.hpp"
#include "engine/io/json_input.hpp"
#include "engine/io/read_file.hpp"
#include "tests/scratch_dir.hpp"

namespace {

using mmx::io::json_field;
using nlohmann::json;

std::string nested(int depth) {
  return std::string(static_cast<size_t>(depth), '[') + "1" +
         std::string(static_cast<size_t>(depth), ']');
}

// The message of the mmx::Error that `f` throws ("" when it throws none).
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const mmx::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("parse_json: a nesting limit, and errors that name the label") {
  CHECK(mmx::io::parse_json(nested(mmx::io::kMaxJsonDepth), "f").is_array());
  struct Row {
    std::string text;
    std::string message;
  };
  const Row rows[] = {
      {nested(mmx::io::kMaxJsonDepth + 1), "f nests JSON arrays or objects more than 64"},
      {nested(50000), "f nests JSON arrays or objects more than 64"},
      {"{\"a\":" + nested(50000) + "}", "f nests JSON arrays or objects more than 64"},
      {"{ nope", "f is not valid JSON: \"{ nope\""},
  };
  for (const Row& row : rows) {
    CAPTURE(row.text.substr(0, 20));
    CHECK(error_of([&] { mmx::io::parse_json(row.text, "f"); }).find(row.message) == 0);
  }
  CHECK_FALSE(mmx::io::parse_json_if_valid("{ nope", "f").has_value());
  CHECK(error_of([&] { mmx::io::parse_json_if_valid(nested(50000), "f"); }).find("nests") !=
        std::string::npos);
}

TEST_CASE("json_excerpt is bounded; json_error_text drops nlohmann's prefix") {
  const std::string excerpt = mmx::io::json_excerpt(json(std::string(1000, 'x')));
  CHECK(excerpt.size() == mmx::io::kJsonExcerptBytes + 3);
  CHECK(excerpt.substr(excerpt.size() - 3) == "...");
  CHECK(mmx::io::json_excerpt(json(std::string("\xff"))) == "\"\xEF\xBF\xBD\"");  // replaced
  try {
    json(1).at("x");
  } catch (const json::exception& e) {
    CHECK(mmx::io::json_error_text(e).find("[json.exception") == std::string::npos);
  }
}

TEST_CASE("json_field: no coercion, and a message naming the field") {
  const json j = json::parse(
      R"({"float": 1.9, "negative": -1, "big": 18446744073709551615, "text": "two", "int": 7})");
  struct Row {
    std::string name;
    std::string (*read)(const json&);
    std::string message;  // "" when the read must succeed
  };
  const Row rows[] = {
      {"float as int",
       [](const json& o) { return std::to_string(json_field<int64_t>(o, "float", "L")); },
       "L: field 'float' must be an integer from"},
      {"negative as unsigned",
       [](const json& o) { return std::to_string(json_field<uint64_t>(o, "negative", "L")); },
       "L: field 'negative' must be an integer from 0 to"},
      {"2^64-1 as int64",
       [](const json& o) { return std::to_string(json_field<int64_t>(o, "big", "L")); },
       "L: field 'big' must be an integer"},
      {"too big for int",
       [](const json& o) { return std::to_string(json_field<int>(o, "big", "L")); },
       "L: field 'big' must be an integer from -2147483648 to 2147483647"},
      {"string as number",
       [](const json& o) { return std::to_string(json_field<double>(o, "text", "L")); },
       "L: field 'text' must be a number, got \"two\""},
      {"missing", [](const json& o) { return json_field<std::string>(o, "gone", "L"); },
       "L: field 'gone' is missing"},
      {"int as int", [](const json& o) { return std::to_string(json_field<int>(o, "int", "L")); },
       ""},
      {"int as double",
       [](const json& o) { return std::to_string(json_field<double>(o, "int", "L")); }, ""},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    const std::string message = error_of([&] { row.read(j); });
    if (row.message.empty())
      CHECK(message.empty());
    else
      CHECK(message.find(row.message) == 0);
  }
}

TEST_CASE("read_file_bytes: regular files only, up to a stated cap") {
  ScratchDir dir{"read-file"};
  std::ofstream(dir / "ten.txt") << "0123456789";
  REQUIRE(::mkfifo((dir / "pipe").c_str(), 0600) == 0);
  CHECK(mmx::io::read_file_bytes(dir / "ten.txt", 10) == "0123456789");
  struct Row {
    std::string path;
    int64_t cap;
    std::string message;
  };
  const Row rows[] = {
      {(dir / "ten.txt").string(), 9, "it is 10 bytes, more than the 9-byte limit"},
      {(dir / "pipe").string(), 100, "it is a FIFO (named pipe), not a regular file"},
      {"/dev/zero", 100, "it is a device"},
      {dir.path.string(), 100, "it is a directory"},
      {(dir / "missing").string(), 100, "cannot open"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.path);
    CHECK(error_of([&] { mmx::io::read_file_bytes(row.path, row.cap); }).find(row.message) !=
          std::string::npos);
  }
}
