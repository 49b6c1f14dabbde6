#include "nn/data/phrase_pairs.hpp"

#include <cmath>
#include <istream>
#include <sstream>
#include <unordered_set>

#include "engine/error.hpp"
#include "engine/io/read_file.hpp"
#include "nn/data/utf8.hpp"

namespace mmx::data {

namespace {

constexpr std::string_view kSideSeparator = " :: ";
constexpr std::string_view kAlternativeSeparator = " | ";
constexpr std::string_view kSynonymSeparator = ";";

std::vector<std::string_view> split_on(std::string_view text, std::string_view separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t at = text.find(separator); at != std::string_view::npos;
       at = text.find(separator, start)) {
    parts.push_back(text.substr(start, at - start));
    start = at + separator.size();
  }
  parts.push_back(text.substr(start));
  return parts;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Drops whitespace-delimited tokens of the form /ABBR/ ("/HI/", "/:-)/"); a lone "/" or words
// joined by a slash ("anorganisch/akzidentell") stay.
std::string drop_abbreviations(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = i;
    while (end < text.size() && !is_space(text[end])) ++end;
    const std::string_view token = text.substr(i, end - i);
    const bool abbreviation = token.size() >= 3 && token.front() == '/' && token.back() == '/';
    if (!abbreviation) out.append(token);
    if (end < text.size()) out.push_back(' ');
    i = end + 1;
  }
  return out;
}

char closer_of(char open) {
  switch (open) {
    case '{': return '}';
    case '[': return ']';
    case '(': return ')';
    default: return '>';
  }
}

std::string collapse_whitespace(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (is_space(c)) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool is_comment_or_blank(std::string_view line) {
  return (!line.empty() && line.front() == '#') || collapse_whitespace(line).empty();
}

int64_t code_point_count(std::string_view text) {
  int64_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// SplitMix64's finaliser: spreads the FNV sum over all 64 bits before it becomes a fraction.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

void PhrasePairOptions::validate() const {
  MMX_CHECK(max_chars >= 0, "phrase pairs: max_chars must be >= 0, got ", max_chars);
  MMX_CHECK(std::isfinite(valid_fraction) && std::isfinite(test_fraction) && valid_fraction >= 0 &&
                test_fraction >= 0 && valid_fraction + test_fraction < 1,
            "phrase pairs: valid_fraction ", valid_fraction, " and test_fraction ", test_fraction,
            " must be >= 0 and sum to less than 1");
}

std::optional<std::string> strip_annotations(std::string_view text) {
  const std::string words = drop_abbreviations(text);
  std::string out;
  std::string open;  // the closers we wait for, innermost last
  // Found once: searching for a '>' at every '<' took quadratic time (42 s for a 2 MB line).
  const size_t last_angle_close = words.rfind('>');
  for (size_t i = 0; i < words.size(); ++i) {
    const char c = words[i];
    const bool opens_angle = c == '<' && i + 1 < words.size() && !is_space(words[i + 1]) &&
                             last_angle_close != std::string::npos && last_angle_close > i;
    if (c == '{' || c == '[' || c == '(' || opens_angle) {
      open.push_back(closer_of(c));
    } else if (c == '}' || c == ']' || c == ')' ||
               (c == '>' && !open.empty() && open.back() == '>')) {
      if (open.empty() || open.back() != c) return std::nullopt;
      open.pop_back();
    } else if (open.empty()) {
      out.push_back(c);
    }
  }
  if (!open.empty()) return std::nullopt;
  return collapse_whitespace(out);
}

std::optional<std::vector<PhrasePair>> parse_dictionary_line(std::string_view line,
                                                             int64_t* empty) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<PhrasePair> pairs;
  if (is_comment_or_blank(line)) return pairs;
  if (decode_utf8(line).replaced > 0) return std::nullopt;
  const auto sides = split_on(line, kSideSeparator);
  if (sides.size() != 2) return std::nullopt;
  const auto german = split_on(sides[0], kAlternativeSeparator);
  const auto english = split_on(sides[1], kAlternativeSeparator);
  if (german.size() != english.size()) return std::nullopt;
  for (size_t a = 0; a < german.size(); ++a) {
    const auto source = strip_annotations(german[a]);
    const auto target = strip_annotations(english[a]);
    if (!source || !target) return std::nullopt;
    std::string first_target;
    for (std::string_view synonym : split_on(*target, kSynonymSeparator)) {
      first_target = collapse_whitespace(synonym);
      if (!first_target.empty()) break;
    }
    for (std::string_view synonym : split_on(*source, kSynonymSeparator)) {
      std::string german_text = collapse_whitespace(synonym);
      if (german_text.empty() || first_target.empty()) {
        if (empty) ++*empty;
        continue;
      }
      pairs.push_back({std::move(german_text), first_target});
    }
  }
  return pairs;
}

PhraseSplit split_of(std::string_view source, const PhrasePairOptions& options) {
  uint64_t h = 0xCBF29CE484222325ull ^ mix(options.seed);  // FNV-1a, seeded basis
  for (char c : source) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ull;
  }
  const double u = static_cast<double>(mix(h) >> 11) * 0x1.0p-53;  // [0, 1)
  if (u < options.test_fraction) return PhraseSplit::Test;
  if (u < options.test_fraction + options.valid_fraction) return PhraseSplit::Valid;
  return PhraseSplit::Train;
}

PhrasePairSplits read_phrase_pairs(std::istream& in, const PhrasePairOptions& options) {
  options.validate();
  PhrasePairSplits out;
  PhrasePairStats& stats = out.stats;
  std::unordered_set<std::string> seen;
  std::string line;
  while (std::getline(in, line)) {
    ++stats.lines;
    const auto pairs = parse_dictionary_line(line, &stats.empty);
    if (!pairs) {
      ++stats.malformed;
      if (stats.malformed_lines.size() < 20) stats.malformed_lines.push_back(stats.lines);
      continue;
    }
    if (is_comment_or_blank(line)) ++stats.comments;
    for (const PhrasePair& pair : *pairs) {
      if (options.max_chars > 0 && (code_point_count(pair.source) > options.max_chars ||
                                    code_point_count(pair.target) > options.max_chars)) {
        ++stats.too_long;
        continue;
      }
      // '\0' cannot occur in a text line, so it separates the two sides unambiguously.
      if (!seen.insert(pair.source + '\0' + pair.target).second) {
        ++stats.duplicates;
        continue;
      }
      switch (split_of(pair.source, options)) {
        case PhraseSplit::Train: out.train.push_back(pair); break;
        case PhraseSplit::Valid: out.valid.push_back(pair); break;
        case PhraseSplit::Test: out.test.push_back(pair); break;
      }
      ++stats.kept;
    }
  }
  return out;
}

PhrasePairSplits load_phrase_pairs(const std::string& path, const PhrasePairOptions& options) {
  // Regular files only (a FIFO would block forever), and at most the stated cap.
  std::istringstream in(io::read_file_bytes(path, kMaxDictionaryBytes));
  return read_phrase_pairs(in, options);
}

}  // namespace mmx::data
