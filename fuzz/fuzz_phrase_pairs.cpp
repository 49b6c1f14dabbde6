// Fuzzes the dictionary parser behind the translation data: any bytes give pairs and counts,
// never a crash; every kept pair has two non-empty sides within max_chars.
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "nn/data/phrase_pairs.hpp"
#include "nn/data/utf8.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  mmx::data::PhrasePairOptions options;
  options.max_chars = 24;
  const mmx::data::PhrasePairSplits splits = mmx::data::read_phrase_pairs(in, options);
  const auto& s = splits.stats;
  const size_t kept = splits.train.size() + splits.valid.size() + splits.test.size();
  if (static_cast<int64_t>(kept) != s.kept || s.malformed + s.comments > s.lines) std::abort();
  for (const auto* split : {&splits.train, &splits.valid, &splits.test})
    for (const mmx::data::PhrasePair& pair : *split) {
      if (pair.source.empty() || pair.target.empty()) std::abort();
      const auto source = mmx::data::decode_utf8(pair.source);
      const auto target = mmx::data::decode_utf8(pair.target);
      if (source.replaced || target.replaced) std::abort();  // malformed UTF-8 lines are skipped
      if (static_cast<int64_t>(source.code_points.size()) > options.max_chars ||
          static_cast<int64_t>(target.code_points.size()) > options.max_chars)
        std::abort();
    }
  return 0;
}
