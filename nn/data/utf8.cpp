#include "nn/data/utf8.hpp"

#include <cstdio>

#include "engine/error.hpp"

namespace mmx::data {
namespace {

std::string code_name(char32_t c) {
  char code[16];
  std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(c));
  return code;
}

bool is_continuation(unsigned char b) {
  return (b & 0xC0) == 0x80;
}

// For a lead byte: the number of continuation bytes and the allowed range of the FIRST one.
// The narrowed ranges are what exclude overlong forms (E0, F0), surrogates (ED) and values past
// U+10FFFF (F4), so a bad sequence is caught at its second byte (Unicode Table 3-7).
struct Lead {
  int continuation_bytes;  // -1: not a valid lead byte
  unsigned char low, high;
  char32_t bits;
};

Lead classify(unsigned char b) {
  if (b < 0x80) return {0, 0, 0, b};
  if (b >= 0xC2 && b <= 0xDF) return {1, 0x80, 0xBF, static_cast<char32_t>(b & 0x1F)};
  if (b == 0xE0) return {2, 0xA0, 0xBF, 0};
  if (b == 0xED) return {2, 0x80, 0x9F, 0xD};
  if (b >= 0xE1 && b <= 0xEF) return {2, 0x80, 0xBF, static_cast<char32_t>(b & 0x0F)};
  if (b == 0xF0) return {3, 0x90, 0xBF, 0};
  if (b >= 0xF1 && b <= 0xF3) return {3, 0x80, 0xBF, static_cast<char32_t>(b & 0x07)};
  if (b == 0xF4) return {3, 0x80, 0x8F, 4};
  return {-1, 0, 0, 0};  // 80..BF stray continuation, C0/C1 overlong, F5..FF out of range
}

}  // namespace

DecodedText decode_utf8(std::string_view bytes) {
  DecodedText out;
  out.code_points.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const Lead lead = classify(static_cast<unsigned char>(bytes[i]));
    if (lead.continuation_bytes < 0) {
      out.code_points.push_back(kReplacementChar);
      ++out.replaced;
      ++i;
      continue;
    }
    char32_t value = lead.bits;
    size_t k = 1;
    for (; k <= static_cast<size_t>(lead.continuation_bytes); ++k) {
      if (i + k >= bytes.size()) break;
      const auto b = static_cast<unsigned char>(bytes[i + k]);
      const bool ok = k == 1 ? (b >= lead.low && b <= lead.high) : is_continuation(b);
      if (!ok) break;
      value = (value << 6) | (b & 0x3F);
    }
    if (k == static_cast<size_t>(lead.continuation_bytes) + 1) {
      out.code_points.push_back(value);
    } else {
      // The bytes read so far form one maximal invalid subpart; the byte that broke it starts
      // the next sequence.
      out.code_points.push_back(kReplacementChar);
      ++out.replaced;
    }
    i += k;
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  MMX_CHECK(c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF), "utf8: ", code_name(c),
            " is not a Unicode scalar value");
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view code_points) {
  std::string out;
  out.reserve(code_points.size());
  for (char32_t c : code_points) append_utf8(out, c);
  return out;
}

std::string describe_code_point(char32_t c) {
  const std::string code = code_name(c);
  const bool printable = c >= 0x20 && c != 0x7F && !(c >= 0x80 && c < 0xA0) && c <= 0x10FFFF &&
                         !(c >= 0xD800 && c <= 0xDFFF);
  if (!printable) return code;
  std::string glyph;
  append_utf8(glyph, c);
  return cat("'", glyph, "' (", code, ")");
}

}  // namespace mmx::data
