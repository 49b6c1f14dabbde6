/// \file
/// UTF-8 <-> Unicode code points. Decoding never fails: each invalid or truncated sequence
/// becomes one U+FFFD (the "maximal subpart" practice of Unicode ch. 3 and the WHATWG decoder).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mmx::data {

/// U+FFFD, what every invalid sequence decodes to.
inline constexpr char32_t kReplacementChar = 0xFFFD;

/// The result of decode_utf8.
struct DecodedText {
  /// the decoded text
  std::u32string code_points;
  int64_t replaced = 0;  ///< invalid sequences turned into U+FFFD
};

/// Rejects (replaces) stray continuation bytes, overlong forms, surrogates (U+D800..DFFF),
/// values past U+10FFFF and sequences cut short by the end of the input.
DecodedText decode_utf8(std::string_view bytes);

/// Throws mmx::Error for a surrogate or a value past U+10FFFF: those have no UTF-8 form.
void append_utf8(std::string& out, char32_t code_point);
/// The UTF-8 bytes of a whole string (append_utf8 per code point).
std::string encode_utf8(std::u32string_view code_points);

/// For error messages: "'é' (U+00E9)"; control characters print as their code only.
std::string describe_code_point(char32_t code_point);

}  // namespace mmx::data
