/// \file
/// Phrase pairs for character-level translation, read from a TU Chemnitz "ding" dictionary such
/// as Debian's trans-de-en (/usr/share/trans/de-en), and split train/valid/test by a seeded hash.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mmx::data {

// The parsing rules, chosen after reading the real file:
// - A line is `German :: English`. Lines starting with '#' are comments and blank lines are
//   skipped; neither counts as malformed.
// - Each side holds alternatives separated by " | ", aligned one to one (the i-th German
//   alternative translates the i-th English one, e.g. singular | plural).
// - Inside an alternative, "; " separates synonyms. Each German synonym is paired with the FIRST
//   English synonym: the encoder sees every spelling, the decoder learns one deterministic
//   answer (pairing all synonyms would ask the model to output several targets for one input).
// - Annotations are removed: {m} {pl} {adj} (grammar), [coll.] [Br.] (usage), (...) (context;
//   also inside words: "h(a)emodynamic" -> "hemodynamic"), <...> (search spellings) and
//   whitespace-delimited /ABBR/ tokens. Brackets nest; '<' opens an annotation only when a
//   non-space follows it, so "< 14 mm" stays text. Whitespace is then collapsed.
// - Malformed, counted and skipped, never fatal: no " :: " or more than one, differing numbers
//   of alternatives, unbalanced or crossed brackets, invalid UTF-8.
// - An alternative or synonym that is empty once stripped is skipped (counted as `empty`).
// - Pairs longer than `max_chars` code points on either side are dropped, exact duplicate
//   pairs are kept once, and file order is kept.

/// One German phrase and its English translation.
struct PhrasePair {
  std::string source;  ///< German
  std::string target;  ///< English (the first synonym)
  /// Equal when both sides are.
  bool operator==(const PhrasePair&) const = default;
};

/// How phrase pairs are read and split.
struct PhrasePairOptions {
  int64_t max_chars = 32;        ///< per side, in code points; 0 keeps every length
  double valid_fraction = 0.05;  ///< of the distinct source phrases
  /// of the distinct source phrases
  double test_fraction = 0.05;
  uint64_t seed = 0;  ///< decides the split; the same seed always gives the same split
  /// Throws an mmx::Error naming the bad field.
  void validate() const;
};

/// What reading a dictionary found, line by line.
struct PhrasePairStats {
  int64_t lines = 0;                     ///< every line read, comments included
  int64_t comments = 0;                  ///< '#' lines and blank lines
  int64_t malformed = 0;                 ///< skipped lines (see the rules above)
  int64_t empty = 0;                     ///< synonyms empty after stripping
  int64_t too_long = 0;                  ///< pairs dropped by max_chars
  int64_t duplicates = 0;                ///< pairs seen before
  int64_t kept = 0;                      ///< pairs in train + valid + test
  std::vector<int64_t> malformed_lines;  ///< 1-based line numbers of the first 20 malformed lines
};

/// The pairs of a dictionary split three ways, and the reading statistics.
struct PhrasePairSplits {
  ///@{
  /// the three splits, each in file order
  std::vector<PhrasePair> train, valid, test;
  ///@}
  /// what reading found
  PhrasePairStats stats;
};

// --- the steps, exposed for tests ---
/// The text with every annotation removed and whitespace collapsed; nullopt when the brackets
/// are unbalanced or crossed.
std::optional<std::string> strip_annotations(std::string_view text);
/// The pairs of one dictionary line (may be empty, e.g. for a comment); nullopt when malformed.
/// `empty`, when given, is increased by the synonyms that stripping left empty.
std::optional<std::vector<PhrasePair>> parse_dictionary_line(std::string_view line,
                                                             int64_t* empty = nullptr);

/// The three parts of the phrase pairs (named apart from text_dataset.hpp's Split, so one
/// file can include both).
enum class PhraseSplit { Train, Valid, Test };
/// Which split a source phrase belongs to: a seeded 64-bit hash of its bytes mapped to [0, 1).
/// Splitting by source keeps every pair of one German phrase in the same split.
PhraseSplit split_of(std::string_view source, const PhrasePairOptions& options);

// --- whole files ---
/// Reads a whole dictionary from `in` and splits its pairs.
PhrasePairSplits read_phrase_pairs(std::istream& in, const PhrasePairOptions& options);
/// The largest dictionary file read, in bytes (Debian's trans-de-en is about 25 MB).
inline constexpr int64_t kMaxDictionaryBytes = int64_t{256} << 20;
/// Throws an mmx::Error naming the path when it is not a regular file, is over
/// kMaxDictionaryBytes (the message states the cap) or cannot be read.
PhrasePairSplits load_phrase_pairs(const std::string& path, const PhrasePairOptions& options);

/// Where Debian's trans-de-en installs the dictionary.
inline constexpr const char* kDebianDeEnPath = "/usr/share/trans/de-en";

}  // namespace mmx::data
