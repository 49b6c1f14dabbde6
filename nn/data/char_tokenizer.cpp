#include "nn/data/char_tokenizer.hpp"

#include <algorithm>

#include "engine/error.hpp"
#include "engine/io/json_input.hpp"
#include "nn/data/utf8.hpp"

namespace mmx::data {

CharTokenizer::CharTokenizer(std::vector<char32_t> vocab) : vocab_(std::move(vocab)) {
  MMX_CHECK(!vocab_.empty(), "tokenizer: the vocabulary is empty");
  for (size_t i = 0; i < vocab_.size(); ++i) {
    const char32_t c = vocab_[i];
    MMX_CHECK(c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF), "tokenizer: vocabulary entry ", i,
              " (", describe_code_point(c), ") is not a Unicode scalar value");
    MMX_CHECK(i == 0 || vocab_[i - 1] < c, "tokenizer: vocabulary entry ", i, " (",
              describe_code_point(c), ") is not strictly greater than the one before it");
  }
}

CharTokenizer CharTokenizer::from_text(std::u32string_view text) {
  MMX_CHECK(!text.empty(), "tokenizer: cannot build a vocabulary from empty text");
  std::vector<char32_t> vocab(text.begin(), text.end());
  std::sort(vocab.begin(), vocab.end());
  vocab.erase(std::unique(vocab.begin(), vocab.end()), vocab.end());
  return CharTokenizer(std::move(vocab));
}

bool CharTokenizer::contains(char32_t c) const {
  return std::binary_search(vocab_.begin(), vocab_.end(), c);
}

std::vector<int64_t> CharTokenizer::encode(std::u32string_view code_points) const {
  std::vector<int64_t> ids;
  ids.reserve(code_points.size());
  for (size_t i = 0; i < code_points.size(); ++i) {
    const auto it = std::lower_bound(vocab_.begin(), vocab_.end(), code_points[i]);
    MMX_CHECK(it != vocab_.end() && *it == code_points[i], "tokenizer: character ",
              describe_code_point(code_points[i]), " at position ", i, " is not in the ",
              vocab_.size(), "-character vocabulary");
    ids.push_back(it - vocab_.begin());
  }
  return ids;
}

std::vector<int64_t> CharTokenizer::encode_utf8(std::string_view text) const {
  return encode(decode_utf8(text).code_points);
}

std::string CharTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  out.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    MMX_CHECK(ids[i] >= 0 && ids[i] < vocab_size(), "tokenizer: id ", ids[i], " at position ", i,
              " is outside the vocabulary [0, ", vocab_size(), ")");
    append_utf8(out, vocab_[static_cast<size_t>(ids[i])]);
  }
  return out;
}

nlohmann::json CharTokenizer::to_json() const {
  nlohmann::json entries = nlohmann::json::array();
  for (char32_t c : vocab_) entries.push_back(mmx::data::encode_utf8(std::u32string(1, c)));
  return {{"type", "char"}, {"vocab", entries}};
}

CharTokenizer CharTokenizer::from_json(const nlohmann::json& json) {
  // Checked as types first: json.value() throws nlohmann's exception on a non-string "type".
  MMX_CHECK(json.is_object() && json.contains("type") && json["type"].is_string() &&
                json["type"].get<std::string>() == "char",
            "tokenizer: expected {\"type\": \"char\", \"vocab\": [...]}, got ",
            io::json_excerpt(json));
  MMX_CHECK(json.contains("vocab") && json["vocab"].is_array(),
            "tokenizer: \"vocab\" is missing or not an array");
  std::vector<char32_t> vocab;
  for (const auto& entry : json["vocab"]) {
    MMX_CHECK(entry.is_string(), "tokenizer: vocabulary entry ", vocab.size(), " is not a string");
    const DecodedText decoded = decode_utf8(entry.get<std::string>());
    MMX_CHECK(decoded.code_points.size() == 1 && decoded.replaced == 0,
              "tokenizer: vocabulary entry ", vocab.size(), " (", io::json_excerpt(entry),
              ") is not exactly one character");
    vocab.push_back(decoded.code_points[0]);
  }
  return CharTokenizer(std::move(vocab));
}

}  // namespace mmx::data
