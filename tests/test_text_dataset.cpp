// Corpus loading (which files a folder contributes, UTF-8 replacement, the errors) and the
// text dataset (split, seeded windows, the fixed validation batch, short-corpus errors).
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "engine/error.hpp"
#include "nn/data/text_corpus.hpp"
#include "nn/data/text_dataset.hpp"
#include "tests/scratch_dir.hpp"

using namespace mmx;
using namespace mmx::data;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = i;
  return ids;
}

}  // namespace

TEST_CASE("a folder like the fortunes package: which files are read, in which order") {
  ScratchDir dir("corpus");
  write(dir / "cookie", "hello\n%\n");
  write(dir / "cookie.dat", std::string("\x00\x00\x00\x02\x00", 5));  // binary index
  fs::create_symlink("cookie", dir / "cookie.u8");                    // UTF-8 twin of `cookie`
  write(dir / "lonely.u8", "u8 only\n");                              // no plain twin: read
  write(dir / "sub/b", "x\xFFy");                     // broken UTF-8, no final newline
  fs::create_symlink(dir / "sub/b", dir / "z_link");  // same file again: read once
  write(dir / ".hidden", "secret\n");
  write(dir / ".git/config", "secret\n");
  write(dir / "image", std::string("PNG\0\1", 5));  // binary without extension

  const TextCorpus corpus = load_text_corpus(dir.path);
  CHECK(corpus.files == std::vector<fs::path>{dir / "cookie", dir / "lonely.u8", dir / "sub/b"});
  CHECK(corpus.text == U"hello\n%\nu8 only\nx\uFFFDy\n");
  CHECK(corpus.replaced == 1);
}

TEST_CASE("a single file; errors for missing, binary and empty inputs") {
  ScratchDir dir("corpus-errors");
  write(dir / "one.txt", "caf\xC3\xA9\n");
  CHECK(load_text_corpus(dir / "one.txt").text == U"caf\u00E9\n");

  write(dir / "blob.bin", std::string("a\0b", 3));
  const std::string blob = (dir / "blob.bin").string();
  CHECK_THROWS_WITH_AS(load_text_corpus(blob),
                       doctest::Contains((blob + " is not a text file").c_str()), Error);
  CHECK_THROWS_WITH_AS(load_text_corpus(dir / "absent"), doctest::Contains("does not exist"),
                       Error);

  fs::create_directory(dir / "empty_dir");
  CHECK_THROWS_WITH_AS(load_text_corpus(dir / "empty_dir"),
                       doctest::Contains("no text files under"), Error);
  write(dir / "blank/empty.txt", "");
  CHECK_THROWS_WITH_AS(load_text_corpus(dir / "blank"), doctest::Contains("is empty"), Error);

  CHECK_THROWS_WITH_AS(load_default_corpus(dir / "no-fortunes"),
                       doctest::Contains("apt-get install fortunes`, or set `data` to a path"),
                       Error);
}

TEST_CASE("the default corpus, when the fortunes package is installed") {
  if (!fs::is_directory(kDefaultCorpusDir)) {
    MESSAGE("fortunes not installed; skipped");
    return;
  }
  const TextCorpus corpus = load_default_corpus();
  CHECK(corpus.files.size() > 10);
  for (const fs::path& f : corpus.files) {
    CHECK(f.extension() != ".dat");
    CHECK(f.extension() != ".u8");
  }
  CHECK(corpus.text.size() > 100000);
  CHECK(std::is_sorted(corpus.files.begin(), corpus.files.end()));
}

TEST_CASE("the split: the last 10% is validation") {
  const TextDataset data(iota(100));
  CHECK(data.tokens(Split::train).size() == 90);
  CHECK(data.tokens(Split::val).size() == 10);
  CHECK(data.tokens(Split::val)[0] == 90);
  CHECK(TextDataset(iota(100), 0.0).tokens(Split::val).empty());
  CHECK_THROWS_WITH_AS(TextDataset(iota(10), 1.0), doctest::Contains("outside [0, 1)"), Error);
  CHECK_THROWS_WITH_AS(TextDataset({}), doctest::Contains("no tokens"), Error);
}

TEST_CASE(
    "random windows: targets are the next tokens, stay in their split, and replay from a saved "
    "state") {
  const TextDataset data(iota(100));
  Generator gen(3);
  const Generator::State saved = gen.state();
  const TokenBatch b = data.sample(Split::train, 8, 16, gen);
  CHECK(b.shape() == Shape{8, 16});
  REQUIRE(b.inputs.size() == 8 * 16);
  for (size_t i = 0; i < b.inputs.size(); ++i) {
    CHECK(b.targets[i] == b.inputs[i] + 1);  // iota: the next token is the next integer
    CHECK(b.targets[i] < 90);                // never a validation token
  }
  for (int64_t row = 0; row < 8; ++row)  // each row is one contiguous window
    CHECK(b.inputs[static_cast<size_t>(row * 16 + 15)] ==
          b.inputs[static_cast<size_t>(row * 16)] + 15);

  Generator replay(0);
  replay.set_state(saved);
  const TokenBatch again = data.sample(Split::train, 8, 16, replay);
  CHECK(again.inputs == b.inputs);

  const TokenBatch val = data.sample(Split::val, 4, 9, gen);
  for (int64_t id : val.inputs) CHECK(id >= 90);
}

TEST_CASE("every start position is reachable, including the last") {
  const TextDataset data(iota(10), 0.0);
  Generator gen(1);
  const TokenBatch b = data.sample(Split::train, 500, 3, gen);
  std::vector<int64_t> starts;
  for (int64_t row = 0; row < 500; ++row) starts.push_back(b.inputs[static_cast<size_t>(row * 3)]);
  CHECK(*std::min_element(starts.begin(), starts.end()) == 0);
  CHECK(*std::max_element(starts.begin(), starts.end()) ==
        6);  // window 6..9 ends at the last token
}

TEST_CASE("the fixed batch is the same every call and spans the split") {
  const TextDataset data(iota(200));
  const TokenBatch a = data.fixed_batch(Split::val, 3, 5);
  CHECK(a.inputs == data.fixed_batch(Split::val, 3, 5).inputs);
  CHECK(a.inputs[0] == 180);       // first window starts at the split's start
  CHECK(a.targets.back() == 199);  // last window ends at the split's end
  CHECK(data.fixed_batch(Split::val, 1, 5).inputs[0] == 180);
}

TEST_CASE("a corpus shorter than seq + 1 is an error naming the sizes") {
  const TextDataset data(iota(20));
  Generator gen(0);
  CHECK_THROWS_WITH_AS(
      data.sample(Split::train, 2, 18, gen),
      doctest::Contains("train split has 18 tokens (of 20 in the corpus), fewer than seq + 1 = 19"),
      Error);
  CHECK_THROWS_WITH_AS(data.fixed_batch(Split::val, 1, 2),
                       doctest::Contains("val split has 2 tokens"), Error);
  CHECK_THROWS_WITH_AS(TextDataset(iota(20), 0.0).fixed_batch(Split::val, 1, 1),
                       doctest::Contains("val split has 0 tokens"), Error);
  CHECK_THROWS_WITH_AS(data.sample(Split::train, 0, 4, gen), doctest::Contains("must be positive"),
                       Error);
  CHECK_NOTHROW(data.sample(Split::train, 1, 17, gen));  // exactly seq + 1 tokens is enough
}
