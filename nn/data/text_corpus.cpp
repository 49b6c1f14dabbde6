#include "nn/data/text_corpus.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include "engine/error.hpp"
#include "engine/io/read_file.hpp"
#include "nn/data/utf8.hpp"

namespace mmx::data {
namespace fs = std::filesystem;
namespace {

bool is_hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

// The fortunes package ships `X.u8` beside `X`: the same text (a symlink on Debian). Read `X`.
bool is_twin_of_plain_file(const fs::path& p) {
  if (p.extension() != ".u8") return false;
  std::error_code ec;
  return fs::is_regular_file(p.parent_path() / p.stem(), ec);
}

// The folder's candidate files in sorted order, without descending into hidden folders.
std::vector<fs::path> list_text_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  MMX_CHECK(!ec, "corpus: cannot list ", dir.string(), ": ", ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    MMX_CHECK(!ec, "corpus: cannot list ", dir.string(), ": ", ec.message());
    const fs::path& p = it->path();
    if (is_hidden(p)) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;  // follows symlinks; skips sockets, fifos, broken links
    if (p.extension() == ".dat" || is_twin_of_plain_file(p)) continue;
    files.push_back(p);
  }
  std::sort(files.begin(), files.end());
  return files;
}

void append_file(TextCorpus& corpus, const fs::path& file, const std::string& bytes) {
  DecodedText decoded = decode_utf8(bytes);
  corpus.text += decoded.code_points;
  if (!decoded.code_points.empty() && decoded.code_points.back() != U'\n') corpus.text += U'\n';
  corpus.replaced += decoded.replaced;
  corpus.files.push_back(file);
}

// The file's bytes, or nullopt at its first NUL byte (not text). Read and checked a chunk at a
// time, so a 2 GB sparse file is refused after its first chunk, not after loading all of it.
std::optional<std::string> read_text_bytes(const fs::path& file) {
  constexpr int64_t kChunkBytes = int64_t{1} << 20;
  io::InputFile in(file);
  std::string bytes;
  bytes.reserve(static_cast<size_t>(std::min(in.size(), kMaxCorpusBytes)));
  std::string chunk(static_cast<size_t>(kChunkBytes), '\0');
  while (const int64_t got = in.read_some(chunk.data(), kChunkBytes)) {
    const std::string_view part(chunk.data(), static_cast<size_t>(got));
    if (part.find('\0') != std::string_view::npos) return std::nullopt;
    MMX_CHECK(std::ssize(bytes) + got <= kMaxCorpusBytes, "corpus: ", file.string(),
              " is larger than the ", kMaxCorpusBytes >> 20,
              " MiB a corpus file may be: train on a part of it");
    bytes += part;
  }
  return bytes;
}

}  // namespace

TextCorpus load_text_corpus(const fs::path& path) {
  std::error_code ec;
  MMX_CHECK(fs::exists(path, ec), "corpus: ", path.string(), " does not exist");
  TextCorpus corpus;
  if (!fs::is_directory(path, ec)) {
    const std::optional<std::string> bytes = read_text_bytes(path);
    MMX_CHECK(bytes, "corpus: ", path.string(), " is not a text file (it contains NUL bytes)");
    append_file(corpus, path, *bytes);
  } else {
    std::set<fs::path> seen;  // canonical paths: a file reached through two links is read once
    for (const fs::path& file : list_text_files(path)) {
      if (!seen.insert(fs::weakly_canonical(file, ec)).second) continue;
      if (const std::optional<std::string> bytes = read_text_bytes(file))
        append_file(corpus, file, *bytes);
    }
    MMX_CHECK(!corpus.files.empty(), "corpus: no text files under ", path.string());
  }
  MMX_CHECK(!corpus.text.empty(), "corpus: ", path.string(),
            " is empty: there is no text to train on");
  return corpus;
}

TextCorpus load_default_corpus(const fs::path& dir) {
  std::error_code ec;
  MMX_CHECK(
      fs::is_directory(dir, ec), "corpus: the default corpus ", dir.string(),
      " is missing: run `apt-get install fortunes`, or set `data` to a path (a UTF-8 text file "
      "or a folder of them)");
  return load_text_corpus(dir);
}

}  // namespace mmx::data
