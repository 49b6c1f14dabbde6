// read_idx on generated files, plain and gzipped: good files round-trip; truncated, malformed,
// oversized and corrupt ones raise mmx::Error naming the file and the problem.
#include <doctest/doctest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/error.hpp"
#include "nn/data/idx_reader.hpp"
#include "scratch_dir.hpp"

using namespace mmx;
using namespace mmx::data;

namespace {

using Bytes = std::vector<uint8_t>;

// An IDX file image: magic 0 0 type rank, big-endian dims, then the payload.
Bytes idx_bytes(uint8_t type, const std::vector<uint32_t>& dims, const Bytes& payload) {
  Bytes out{0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<uint8_t>(d >> shift));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Bytes counting(size_t n) {
  Bytes out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(i * 7 + 3);
  return out;
}

void write_plain(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

Bytes read_plain(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_gzip(const std::filesystem::path& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

// The error read_idx raises for `path`, or "" when it reads the file.
std::string idx_error(const std::filesystem::path& path, int64_t max_bytes = kIdxDefaultMaxBytes) {
  try {
    read_idx(path, max_bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("read_idx: plain and gzipped files give the same dims and values") {
  ScratchDir dir("idx");
  const Bytes payload = counting(3 * 4 * 5);
  const Bytes file = idx_bytes(0x08, {3, 4, 5}, payload);
  write_plain(dir / "a.idx", file);
  write_gzip(dir / "a.idx.gz", file);
  for (const char* name : {"a.idx", "a.idx.gz"}) {
    CAPTURE(name);
    const IdxArray a = read_idx(dir / name);
    CHECK(a.dims == std::vector<int64_t>{3, 4, 5});
    CHECK(a.values == payload);
    CHECK(a.numel() == 60);
  }
  // Rank 1 (labels) and dims past 255 (multi-byte big-endian).
  write_gzip(dir / "labels.gz", idx_bytes(0x08, {300}, counting(300)));
  const IdxArray labels = read_idx(dir / "labels.gz");
  CHECK(labels.dims == std::vector<int64_t>{300});
  CHECK(labels.values == counting(300));
}

TEST_CASE("read_idx: broken files are errors that name the file and the problem") {
  ScratchDir dir("idx-broken");
  const Bytes good = idx_bytes(0x08, {2, 3, 3}, counting(18));
  struct Row {
    const char* name;
    Bytes bytes;
    bool gzip;
    const char* problem;
  };
  const Bytes truncated_payload(good.begin(), good.end() - 5);
  const Bytes truncated_header(good.begin(), good.begin() + 9);
  Bytes trailing = good;
  trailing.push_back(0);
  const std::vector<Row> rows{
      {"truncated-payload.idx", truncated_payload, false,
       "truncated: the payload needs 34 bytes, the data ends after 29"},
      {"truncated-payload.gz", truncated_payload, true, "truncated: the payload needs 34"},
      {"truncated-header.idx", truncated_header, false,
       "truncated: the header needs 16 bytes, the data ends after 9"},
      {"empty.idx", {}, false, "truncated: the header needs 4 bytes, the data ends after 0"},
      {"bad-magic.idx",
       {0x1F, 0x00, 0x08, 0x01, 0, 0, 0, 1, 7},
       false,
       "bad magic: starts with 0x1F 0x00"},
      {"text.idx", {'h', 'e', 'l', 'l', 'o'}, false, "bad magic"},
      {"float.idx", idx_bytes(0x0D, {2}, Bytes(8)), true,
       "data type 0x0D (float32) is not supported"},
      {"unknown-type.idx", idx_bytes(0x42, {2}, Bytes(2)), false,
       "data type 0x42 (not an IDX type)"},
      {"rank0.idx", {0, 0, 0x08, 0}, false, "rank 0"},
      {"dims-too-small.idx", idx_bytes(0x08, {2, 3, 2}, counting(18)), false,
       "trailing data after the 28 bytes"},
      {"dims-too-large.gz", idx_bytes(0x08, {2, 3, 4}, counting(18)), true,
       "truncated: the payload needs 40 bytes, the data ends after 34"},
      {"trailing.gz", trailing, true, "trailing data"},
      // dims claiming 1e12 bytes: refused from the header alone, before any allocation.
      {"hostile.gz", idx_bytes(0x08, {1000000, 1000, 1000}, counting(10)), true,
       "dims 1000000 x 1000 x 1000 claim more than the limit"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    const auto path = dir / row.name;
    if (row.gzip)
      write_gzip(path, row.bytes);
    else
      write_plain(path, row.bytes);
    const std::string message = idx_error(path);
    CAPTURE(message);
    CHECK(message.find(path.string()) != std::string::npos);
    CHECK(message.find(row.problem) != std::string::npos);
  }
}

TEST_CASE("read_idx: damaged gzip streams and missing files") {
  ScratchDir dir("idx-gzip");
  const Bytes file = idx_bytes(0x08, {64, 64}, counting(64 * 64));
  write_gzip(dir / "good.gz", file);
  const Bytes gz = read_plain(dir / "good.gz");
  REQUIRE(gz.size() > 40);
  CHECK(read_idx(dir / "good.gz").values == counting(64 * 64));

  // Cut inside the deflate stream: zlib runs out of input mid-stream.
  write_plain(dir / "cut.gz", Bytes(gz.begin(), gz.begin() + static_cast<long>(gz.size() / 2)));
  CHECK(idx_error(dir / "cut.gz").find("truncated") != std::string::npos);

  // A flipped CRC byte in the trailer: the data inflates but fails its check.
  Bytes bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 0xFF;
  write_plain(dir / "crc.gz", bad_crc);
  const std::string crc_message = idx_error(dir / "crc.gz");
  CHECK(crc_message.find("corrupt gzip data") != std::string::npos);
  CHECK(crc_message.find((dir / "crc.gz").string()) != std::string::npos);

  // Garbage in the middle of the deflate data.
  Bytes garbled = gz;
  for (size_t i = 20; i < 40; ++i) garbled[i] = 0xFF;
  write_plain(dir / "garbled.gz", garbled);
  const std::string garbled_message = idx_error(dir / "garbled.gz");
  CHECK(garbled_message.find((dir / "garbled.gz").string()) != std::string::npos);
  CHECK((garbled_message.find("corrupt gzip data") != std::string::npos ||
         garbled_message.find("truncated") != std::string::npos));

  CHECK(idx_error(dir.path).find("is a directory") != std::string::npos);
  const std::string missing = idx_error(dir / "missing.gz");
  CHECK(missing.find("cannot open") != std::string::npos);
  CHECK(missing.find("missing.gz") != std::string::npos);
}

TEST_CASE("read_idx: max_bytes bounds the payload exactly") {
  ScratchDir dir("idx-limit");
  write_plain(dir / "a.idx", idx_bytes(0x08, {10, 10}, counting(100)));
  CHECK(read_idx(dir / "a.idx", 100).numel() == 100);
  CHECK(idx_error(dir / "a.idx", 99).find("dims 10 x 10 claim more than the limit of 99 bytes") !=
        std::string::npos);
  // A zero dim is an empty array, not an error.
  write_plain(dir / "empty.idx", idx_bytes(0x08, {0, 28, 28}, {}));
  CHECK(read_idx(dir / "empty.idx").dims == std::vector<int64_t>{0, 28, 28});
}

// --- ImageDataset and ShuffledBatches, built on read_idx ---

#include <algorithm>
#include <set>

#include "nn/data/image_dataset.hpp"

TEST_CASE("ImageDataset::from_idx: normalized pixels, labels, gather and range") {
  ScratchDir dir("idx-dataset");
  // Three 2x2 images with pixels 0, 51, 102, ... and labels 2, 0, 1.
  Bytes pixels(12);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 51 % 256);
  write_gzip(dir / "images.gz", idx_bytes(0x08, {3, 2, 2}, pixels));
  write_gzip(dir / "labels.gz", idx_bytes(0x08, {3}, {2, 0, 1}));
  const PixelNormalization norm{0.5f, 0.25f};
  const ImageDataset data = ImageDataset::from_idx(dir / "images.gz", dir / "labels.gz", 3, norm);
  CHECK(data.size() == 3);
  CHECK(data.image_shape() == Shape{1, 2, 2});
  CHECK(data.labels() == std::vector<int64_t>{2, 0, 1});
  const std::vector<float> values = data.images().to_vector();
  for (size_t i = 0; i < pixels.size(); ++i)
    CHECK(values[i] == doctest::Approx((pixels[i] / 255.0f - 0.5f) / 0.25f));

  const std::vector<int64_t> picks{2, 0};
  const ImageBatch batch = data.gather(picks);
  CHECK(batch.images.shape() == Shape{2, 1, 2, 2});
  CHECK(batch.labels == std::vector<int64_t>{1, 2});
  CHECK(batch.images.at({0, 0, 1, 1}) == data.images().at({2, 0, 1, 1}));
  CHECK(batch.images.at({1, 0, 0, 1}) == data.images().at({0, 0, 0, 1}));
  const ImageBatch tail = data.range(1, 2);
  CHECK(tail.images.shape() == Shape{2, 1, 2, 2});
  CHECK(tail.labels == std::vector<int64_t>{0, 1});
  CHECK(tail.images.at({0, 0, 0, 0}) == data.images().at({1, 0, 0, 0}));

  const std::vector<int64_t> outside{3};
  CHECK_THROWS_WITH_AS(data.gather(outside), doctest::Contains("index 3 is outside [0, 3)"), Error);
  CHECK_THROWS_AS(data.range(2, 2), Error);

  // Mismatched counts, a label past the class count, and labels of the wrong rank.
  write_gzip(dir / "two-labels.gz", idx_bytes(0x08, {2}, {0, 1}));
  CHECK_THROWS_WITH_AS(ImageDataset::from_idx(dir / "images.gz", dir / "two-labels.gz", 3, norm),
                       doctest::Contains("holds 3 images but"), Error);
  CHECK_THROWS_WITH_AS(ImageDataset::from_idx(dir / "images.gz", dir / "labels.gz", 2, norm),
                       doctest::Contains("label 2 of item 0 is not below the class count 2"),
                       Error);
  CHECK_THROWS_WITH_AS(ImageDataset::from_idx(dir / "labels.gz", dir / "labels.gz", 3, norm),
                       doctest::Contains("expected images [N, H, W]"), Error);
}

TEST_CASE("ShuffledBatches: each epoch a permutation, seeded, resumable from its state") {
  const int64_t size = 10, batch = 3;  // 3 batches per epoch, one item dropped each epoch
  ShuffledBatches a(size, batch, 7), b(size, batch, 7), other_seed(size, batch, 8);
  CHECK(a.batches_per_epoch() == 3);
  std::vector<std::vector<int64_t>> epochs(3);
  bool seeds_differ = false;
  for (int64_t e = 0; e < 3; ++e)
    for (int64_t i = 0; i < a.batches_per_epoch(); ++i) {
      const auto from_a = a.next();
      CHECK(a.epoch() == e);
      const auto from_b = b.next();
      CHECK(std::equal(from_a.begin(), from_a.end(), from_b.begin(), from_b.end()));
      const auto from_other = other_seed.next();
      seeds_differ |= !std::equal(from_a.begin(), from_a.end(), from_other.begin());
      epochs[static_cast<size_t>(e)].insert(epochs[static_cast<size_t>(e)].end(), from_a.begin(),
                                            from_a.end());
    }
  CHECK(seeds_differ);
  for (const auto& served : epochs) {
    const std::set<int64_t> distinct(served.begin(), served.end());
    CHECK(distinct.size() == 9);
    CHECK(*distinct.begin() >= 0);
    CHECK(*distinct.rbegin() < size);
  }
  CHECK(epochs[0] != epochs[1]);

  // Save mid-epoch, draw on, restore into a fresh stream: the same batches follow.
  ShuffledBatches c(size, batch, 3);
  for (int i = 0; i < 4; ++i) c.next();
  const ShuffledBatches::State saved = c.state();
  std::vector<int64_t> expected;
  for (int i = 0; i < 5; ++i) {
    const auto next = c.next();
    expected.insert(expected.end(), next.begin(), next.end());
  }
  ShuffledBatches resumed(size, batch, 999);
  resumed.set_state(saved);
  CHECK(resumed.epoch() == 1);
  std::vector<int64_t> got;
  for (int i = 0; i < 5; ++i) {
    const auto next = resumed.next();
    got.insert(got.end(), next.begin(), next.end());
  }
  CHECK(got == expected);

  CHECK_THROWS_AS(ShuffledBatches(2, 3, 0), Error);
  CHECK_THROWS_AS(resumed.set_state({saved.epoch_start, 0, 2}), Error);
}

TEST_CASE("Fashion-MNIST test split from the installed package") {
  const std::filesystem::path dir = kFashionMnistDir;
  REQUIRE_MESSAGE(std::filesystem::exists(dir / "t10k-labels-idx1-ubyte.gz"),
                  "install dataset-fashion-mnist (setup.sh does)");
  const ImageDataset test =
      ImageDataset::from_idx(dir / "t10k-images-idx3-ubyte.gz", dir / "t10k-labels-idx1-ubyte.gz",
                             kFashionMnistClasses, {0.0f, 1.0f});
  CHECK(test.size() == 10000);
  CHECK(test.image_shape() == Shape{1, 28, 28});
  std::vector<int64_t> per_class(10, 0);
  for (int64_t label : test.labels()) ++per_class[static_cast<size_t>(label)];
  for (int64_t count : per_class) CHECK(count == 1000);  // the test split is balanced
  const std::vector<float> pixels = test.images().to_vector();
  const auto [lo, hi] = std::minmax_element(pixels.begin(), pixels.end());
  CHECK(*lo == 0.0f);
  CHECK(*hi == 1.0f);
}
