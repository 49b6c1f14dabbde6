/// \file
/// CharTokenizer: one token per Unicode code point, vocabulary = the corpus's distinct code points
/// sorted by value (so the same corpus always gives the same ids), serialisable to JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace mmx::data {

/// One token per Unicode code point (see the file comment).
class CharTokenizer {
 public:
  /// `vocab` must be strictly increasing Unicode scalar values (no duplicates) and non-empty.
  explicit CharTokenizer(std::vector<char32_t> vocab);
  /// The distinct code points of `text`. Throws on empty text.
  static CharTokenizer from_text(std::u32string_view text);

  /// The number of ids.
  int64_t vocab_size() const { return static_cast<int64_t>(vocab_.size()); }
  /// id -> code point, sorted.
  const std::vector<char32_t>& vocab() const { return vocab_; }
  /// Whether `c` has an id.
  bool contains(char32_t c) const;

  /// A character outside the vocabulary is an error naming it (and its position): there is no
  /// unknown token, because a character-level model cannot say anything useful about one.
  std::vector<int64_t> encode(std::u32string_view code_points) const;
  /// Decodes UTF-8 first; an invalid byte becomes U+FFFD, which then must be in the vocabulary.
  std::vector<int64_t> encode_utf8(std::string_view text) const;
  /// Ids back to UTF-8. Throws on an id outside [0, vocab_size).
  std::string decode(const std::vector<int64_t>& ids) const;

  /// {"type": "char", "vocab": ["\n", " ", "!", ...]}: each entry one code point as a string, in
  /// id order, so Python reads it with json.loads(...)["vocab"][id].
  nlohmann::json to_json() const;
  /// The inverse of to_json(); a malformed entry is an mmx::Error.
  static CharTokenizer from_json(const nlohmann::json& json);

 private:
  std::vector<char32_t> vocab_;  ///< id -> code point, sorted
};

}  // namespace mmx::data
