// UTF-8 decoding (one table row per broken sequence) and the character tokenizer: vocabulary
// order, encode/decode round trips, unknown characters, JSON round trip and its validation.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/error.hpp"
#include "nn/data/char_tokenizer.hpp"
#include "nn/data/utf8.hpp"

using namespace mmx;
using namespace mmx::data;

TEST_CASE("decode_utf8: valid text and each kind of broken sequence") {
  constexpr char32_t R = kReplacementChar;
  struct Row {
    std::string what;
    std::string bytes;
    std::u32string expected;
    int64_t replaced;
  };
  const std::vector<Row> rows = {
      {"ascii", "abc", U"abc", 0},
      {"two-byte", "\xC3\xA9", U"\u00E9", 0},
      {"three-byte", "\xE2\x82\xAC", U"\u20AC", 0},
      {"four-byte", "\xF0\x9F\x98\x80", U"\U0001F600", 0},
      {"largest scalar", "\xF4\x8F\xBF\xBF", U"\U0010FFFF", 0},
      {"replacement char itself", "\xEF\xBF\xBD", std::u32string(1, R), 0},
      {"stray continuation", "a\x80z", {U'a', R, U'z'}, 1},
      {"truncated two of three", "\xE2\x82", {R}, 1},
      {"truncated then ascii", "\xE2\x82z", {R, U'z'}, 1},
      {"truncated four-byte at end", "a\xF0\x9F\x98", {U'a', R}, 1},
      {"lead byte then lead byte", "\xC3\xC3\xA9", {R, U'\u00E9'}, 1},
      {"overlong two-byte '/'", "\xC0\xAF", {R, R}, 2},
      {"overlong three-byte", "\xE0\x80\xAF", {R, R, R}, 3},
      {"overlong four-byte", "\xF0\x80\x80\xAF", {R, R, R, R}, 4},
      {"surrogate U+D800", "\xED\xA0\x80", {R, R, R}, 3},
      {"past U+10FFFF", "\xF4\x90\x80\x80", {R, R, R, R}, 4},
      {"F5 lead", "\xF5\x80", {R, R}, 2},
      {"FF byte", "\xFF", {R}, 1},
      {"NUL is valid", std::string("a\0b", 3), std::u32string(U"a\0b", 3), 0},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    const DecodedText decoded = decode_utf8(row.bytes);
    CHECK(decoded.code_points == row.expected);
    CHECK(decoded.replaced == row.replaced);
  }
}

TEST_CASE("encode_utf8 inverts decode_utf8 and refuses non-scalar values") {
  const std::u32string text = U"a\u00E9\u20AC\U0001F600\n";
  CHECK(decode_utf8(encode_utf8(text)).code_points == text);
  CHECK(encode_utf8(U"\u00E9") == "\xC3\xA9");
  CHECK_THROWS_WITH_AS(encode_utf8(std::u32string(1, char32_t{0xD800})),
                       doctest::Contains("U+D800"), Error);
  CHECK_THROWS_WITH_AS(encode_utf8(std::u32string(1, char32_t{0x110000})),
                       doctest::Contains("U+110000"), Error);
  CHECK(describe_code_point(U'z') == "'z' (U+007A)");
  CHECK(describe_code_point(U'\n') == "U+000A");
}

TEST_CASE("the vocabulary is the sorted set of code points, whatever the text's order") {
  const CharTokenizer a = CharTokenizer::from_text(U"hello, w\u00F6rld");
  const CharTokenizer b = CharTokenizer::from_text(U"\u00F6dlrow ,olleh");
  CHECK(a.vocab() == b.vocab());
  CHECK(a.vocab() ==
        std::vector<char32_t>{U' ', U',', U'd', U'e', U'h', U'l', U'o', U'r', U'w', U'\u00F6'});
  CHECK(a.vocab_size() == 10);
  CHECK(a.contains(U'\u00F6'));
  CHECK_FALSE(a.contains(U'x'));
  CHECK_THROWS_WITH_AS(CharTokenizer::from_text(U""), doctest::Contains("empty text"), Error);
}

TEST_CASE("encode and decode round trip; unknown characters and ids are errors") {
  const CharTokenizer tok = CharTokenizer::from_text(U"ab\u00E9\U0001F600\n");
  const std::vector<int64_t> ids = tok.encode_utf8(
      "\xC3\xA9"
      "ba\n\xF0\x9F\x98\x80");
  CHECK(ids == std::vector<int64_t>{3, 2, 1, 0, 4});
  CHECK(tok.decode(ids) ==
        "\xC3\xA9"
        "ba\n\xF0\x9F\x98\x80");
  CHECK_THROWS_WITH_AS(tok.encode(U"abz"),
                       doctest::Contains("character 'z' (U+007A) at position 2"), Error);
  CHECK_THROWS_WITH_AS(tok.decode({0, 5}),
                       doctest::Contains("id 5 at position 1 is outside the vocabulary [0, 5)"),
                       Error);
  CHECK_THROWS_WITH_AS(tok.decode({-1}), doctest::Contains("id -1"), Error);
  // Broken UTF-8 is replaced, and U+FFFD is then just another character.
  CHECK_THROWS_WITH_AS(tok.encode_utf8("a\xFF"), doctest::Contains("U+FFFD"), Error);
  const CharTokenizer with_replacement = CharTokenizer::from_text(decode_utf8("a\xFF").code_points);
  CHECK(with_replacement.decode(with_replacement.encode_utf8("\xFE"
                                                             "a")) ==
        "\xEF\xBF\xBD"
        "a");
}

TEST_CASE("JSON round trip and validation") {
  const CharTokenizer tok = CharTokenizer::from_text(U"\"\\\n\t \u00E9\U0001F600");
  const nlohmann::json serialized = tok.to_json();
  CHECK(serialized["type"] == "char");
  CHECK(serialized["vocab"][0] == "\t");
  // Through text, as it travels in checkpoint metadata.
  CHECK(CharTokenizer::from_json(nlohmann::json::parse(serialized.dump())).vocab() == tok.vocab());

  auto from = [](const char* text) {
    return CharTokenizer::from_json(nlohmann::json::parse(text));
  };
  CHECK_THROWS_WITH_AS(from(R"({"type": "bpe"})"), doctest::Contains("expected"), Error);
  // Found by fuzz/fuzz_text: a non-string "type" used to escape as a nlohmann exception.
  CHECK_THROWS_WITH_AS(from(R"({"type": ["b", "a"]})"), doctest::Contains("expected"), Error);
  CHECK_THROWS_WITH_AS(from(R"({"type": "char"})"), doctest::Contains("\"vocab\" is missing"),
                       Error);
  CHECK_THROWS_WITH_AS(from(R"({"type": "char", "vocab": ["a", "bc"]})"),
                       doctest::Contains("entry 1 (\"bc\") is not exactly one character"), Error);
  CHECK_THROWS_WITH_AS(from(R"({"type": "char", "vocab": ["b", "a"]})"),
                       doctest::Contains("not strictly greater"), Error);
  CHECK_THROWS_WITH_AS(from(R"({"type": "char", "vocab": ["a", "a"]})"),
                       doctest::Contains("not strictly greater"), Error);
  CHECK_THROWS_WITH_AS(from(R"({"type": "char", "vocab": [1]})"),
                       doctest::Contains("entry 0 is not a string"), Error);
  CHECK_THROWS_WITH_AS(from(R"({"type": "char", "vocab": []})"),
                       doctest::Contains("vocabulary is empty"), Error);
}
