// Phrase pairs from ding-format dictionaries: annotation stripping and line parsing by table,
// malformed lines counted (never fatal), length limit, duplicates, a stable seeded split, and
// the real Debian trans-de-en file when it is installed.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine/error.hpp"
#include "nn/data/phrase_pairs.hpp"

using namespace mmx;
using namespace mmx::data;

TEST_CASE("strip_annotations: table") {
  struct Row {
    std::string text;
    std::optional<std::string> expected;
  };
  const std::vector<Row> rows = {
      {"Aal {m}", "Aal"},
      {"Aal {m} [cook.] (auf der Speisekarte)", "Aal"},
      {"das A und O [ugs.]", "das A und O"},
      {"Herzkranke {m,f}", "Herzkranke"},
      {"h(a)emodynamically inefficient", "hemodynamically inefficient"},
      {"heart attack [coll.] <cardiac infarct>", "heart attack"},
      {"Herzindex {m} /HI/ [med.]", "Herzindex"},
      {"Smiley {m} /:-)/ [comp.]", "Smiley"},
      {"anorganisches/akzidentelles Herzgeräusch", "anorganisches/akzidentelles Herzgeräusch"},
      {"Folie (Dicke: > 0,25 mm)", "Folie"},
      {"ratio < 14 mm", "ratio < 14 mm"},
      {"Abholung (von jdm./etw. (nested)) am Bahnhof", "Abholung am Bahnhof"},
      {"  spaced   out  ", "spaced out"},
      {"Jahrgänge (der Nachkriegszeit", std::nullopt},
      {"closed) early", std::nullopt},
      {"crossed {a (b} c)", std::nullopt},
  };
  for (const Row& row : rows) {
    CAPTURE(row.text);
    CHECK(strip_annotations(row.text) == row.expected);
  }
}

TEST_CASE("parse_dictionary_line: alternatives aligned, synonyms to the first target") {
  struct Row {
    std::string line;
    std::optional<std::vector<PhrasePair>> expected;
    int64_t empty;
  };
  using Pairs = std::vector<PhrasePair>;
  const std::vector<Row> rows = {
      {"Aalfang {m} :: eel fishing", Pairs{{"Aalfang", "eel fishing"}}, 0},
      {"Aalbestand {m} | Aalbestände {pl} :: eel stock | eel stocks",
       Pairs{{"Aalbestand", "eel stock"}, {"Aalbestände", "eel stocks"}}, 0},
      {"Aas {n}; Aasfleisch {n} [zool.] :: carrion; carcass",
       Pairs{{"Aas", "carrion"}, {"Aasfleisch", "carrion"}}, 0},
      {"Aalfang {m}\r", std::nullopt, 0},  // no " :: "
      {"a :: b :: c", std::nullopt, 0},
      {"a | b :: x", std::nullopt, 0},     // 2 alternatives vs 1
      {"a (open :: x", std::nullopt, 0},   // unbalanced
      {"a \xFF b :: x", std::nullopt, 0},  // invalid UTF-8
      {"# Version :: devel", Pairs{}, 0},
      {"   ", Pairs{}, 0},
      {"{m} | Haus {n} :: [coll.] | house", Pairs{{"Haus", "house"}}, 1},
      {"Haus {n}; {pl} :: house\r", Pairs{{"Haus", "house"}}, 1},
  };
  for (const Row& row : rows) {
    CAPTURE(row.line);
    int64_t empty = 0;
    CHECK(parse_dictionary_line(row.line, &empty) == row.expected);
    CHECK(empty == row.empty);
  }
}

namespace {

std::string small_dictionary() {
  return "# comment :: not a pair\n"
         "\n"
         "Haus {n} | Häuser {pl} :: house | houses\n"
         "broken line without separator\n"
         "Katze {f} :: cat\n"
         "Katze {f} :: cat\n"   // duplicate
         "a | b :: only one\n"  // malformed: alternatives
         "Donaudampfschifffahrtsgesellschaft {f} :: Danube steamship company\n"  // too long
         "Hund {m}; Köter {m} [pej.] :: dog; cur\n"
         "Maus (unclosed :: mouse\n";  // malformed: bracket
}

}  // namespace

TEST_CASE("read_phrase_pairs: stats on a small file with good and malformed lines") {
  std::istringstream in(small_dictionary());
  PhrasePairOptions options;
  options.max_chars = 16;
  options.valid_fraction = options.test_fraction = 0;
  const PhrasePairSplits splits = read_phrase_pairs(in, options);
  const PhrasePairStats& s = splits.stats;
  CHECK(s.lines == 10);
  CHECK(s.comments == 2);
  CHECK(s.malformed == 3);
  CHECK(s.malformed_lines == std::vector<int64_t>{4, 7, 10});
  CHECK(s.duplicates == 1);
  CHECK(s.too_long == 1);
  CHECK(s.kept == 5);
  const std::vector<PhrasePair> expected = {
      {"Haus", "house"}, {"Häuser", "houses"}, {"Katze", "cat"}, {"Hund", "dog"}, {"Köter", "dog"}};
  CHECK(splits.train == expected);
  CHECK(splits.valid.empty());
  CHECK(splits.test.empty());
}

TEST_CASE("split_of: stable for a seed, fractions respected, seed changes the split") {
  PhrasePairOptions options;
  options.valid_fraction = 0.1;
  options.test_fraction = 0.2;
  int counts[3] = {0, 0, 0};
  int differ = 0;
  PhrasePairOptions other = options;
  other.seed = 7;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const std::string source = "phrase " + std::to_string(i);
    const PhraseSplit split = split_of(source, options);
    CHECK(split == split_of(source, options));
    ++counts[static_cast<int>(split)];
    differ += split != split_of(source, other);
  }
  CHECK(counts[1] == doctest::Approx(0.1 * n).epsilon(0.1));
  CHECK(counts[2] == doctest::Approx(0.2 * n).epsilon(0.1));
  CHECK(differ > n / 10);
}

TEST_CASE("read_phrase_pairs: every pair of one source lands in one split") {
  std::string text;
  for (int i = 0; i < 300; ++i)
    text += "Wort" + std::to_string(i) + " {n}; Wort" + std::to_string(i) + " [alt.] :: word" +
            std::to_string(i) + " | x" + std::to_string(i) + " :: y\n";
  for (int i = 0; i < 300; ++i)
    text += "Wort" + std::to_string(i) + " :: term" + std::to_string(i) + "\n";
  std::istringstream in(text);
  PhrasePairOptions options;
  options.valid_fraction = options.test_fraction = 0.25;
  const PhrasePairSplits splits = read_phrase_pairs(in, options);
  CHECK(splits.stats.malformed == 300);  // the first 300 lines have two " :: "
  std::set<std::string> train, other;
  for (const auto& p : splits.train) train.insert(p.source);
  for (const auto& p : splits.valid) other.insert(p.source);
  for (const auto& p : splits.test) other.insert(p.source);
  for (const auto& source : other) CHECK(train.count(source) == 0);
  CHECK(!splits.valid.empty());
  CHECK(!splits.test.empty());
}

TEST_CASE("PhrasePairOptions: bad fields and missing files are errors") {
  PhrasePairOptions options;
  options.max_chars = -1;
  CHECK_THROWS_AS(options.validate(), Error);
  options = {};
  options.valid_fraction = 0.6;
  options.test_fraction = 0.4;
  CHECK_THROWS_AS(options.validate(), Error);
  CHECK_THROWS_AS(load_phrase_pairs("/nonexistent/de-en", {}), Error);
}

TEST_CASE("load_phrase_pairs: the real Debian trans-de-en dictionary") {
  if (!std::filesystem::exists(kDebianDeEnPath)) {
    MESSAGE("trans-de-en not installed; skipped");
    return;
  }
  PhrasePairOptions options;
  options.max_chars = 24;
  const PhrasePairSplits splits = load_phrase_pairs(kDebianDeEnPath, options);
  const PhrasePairStats& s = splits.stats;
  MESSAGE("lines ", s.lines, ", kept ", s.kept, ", malformed ", s.malformed, ", too long ",
          s.too_long, ", duplicates ", s.duplicates);
  CHECK(s.kept > 10000);
  CHECK(!splits.valid.empty());
  CHECK(!splits.test.empty());
  CHECK(s.malformed < s.lines / 100);  // a few stray brackets, not a format misunderstanding
  int64_t bad = 0;
  std::string first_bad;
  for (const auto* part : {&splits.train, &splits.valid, &splits.test})
    for (const PhrasePair& p : *part)
      for (const std::string* side : {&p.source, &p.target}) {
        const bool ok = side->find_first_of("{}[]") == std::string::npos &&
                        side->find(" :: ") == std::string::npos &&
                        side->find(" | ") == std::string::npos && !side->empty() &&
                        side->front() != ' ' && side->back() != ' ';
        if (!ok && bad++ == 0) first_bad = *side;
      }
  CAPTURE(first_bad);
  CHECK(bad == 0);
}
