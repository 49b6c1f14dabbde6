/// \file
/// TextCorpus: the text a character model trains on, read from one UTF-8 file or a folder of
/// them (the default is the Debian `fortunes` package), decoded to Unicode code points.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mmx::data {

/// Where Debian's fortunes package puts its texts: the default corpus.
inline constexpr const char* kDefaultCorpusDir = "/usr/share/games/fortunes";

/// The largest corpus file read, in bytes (its text takes four times this as code points).
inline constexpr int64_t kMaxCorpusBytes = int64_t{256} << 20;

/// The text of a corpus and where it came from.
struct TextCorpus {
  std::u32string text;                       ///< every file's code points, in `files` order
  std::vector<std::filesystem::path> files;  ///< the files read, sorted
  int64_t replaced = 0;                      ///< invalid UTF-8 sequences turned into U+FFFD
};

/// `path` is a file or a folder. A folder is walked recursively in sorted path order, skipping:
/// hidden entries (".name"), `.dat` files (the fortunes package's binary indexes), `X.u8` when a
/// plain `X` sits beside it (the package's UTF-8 twin of the same text, often a symlink), a file
/// already read through another link, and binary files (any NUL byte). A file named directly is
/// read unless it is binary. Files are read as UTF-8 with U+FFFD replacement; a file not ending
/// in a newline gets one so that files do not run into each other. Empty result, a named file
/// that is not regular (a FIFO, a device) or a file over kMaxCorpusBytes -> mmx::Error.
TextCorpus load_text_corpus(const std::filesystem::path& path);

/// load_text_corpus(dir), with an error that says how to get the fortunes when `dir` is missing.
TextCorpus load_default_corpus(const std::filesystem::path& dir = kDefaultCorpusDir);

}  // namespace mmx::data
