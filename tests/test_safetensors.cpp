// safetensors: round trips, the exact byte layout, a file built by hand as another writer would
// produce it, and one table row per malformed file with the error it must raise.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "engine/error.hpp"
#include "engine/io/atomic_write.hpp"
#include "engine/io/read_file.hpp"
#include "engine/io/safetensors.hpp"
#include "tests/scratch_dir.hpp"

using namespace mmx;
using namespace mmx::io;

namespace {

std::string u64_le(uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}

std::string f32_le(std::vector<float> values) {
  std::string out(values.size() * 4, '\0');
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

// A file as any safetensors writer would lay it out: length, header, data.
std::string file_with_header(const std::string& header, const std::string& data) {
  return u64_le(header.size()) + header + data;
}

std::string error_of(std::string_view bytes) {
  try {
    parse_safetensors(bytes, "bad.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("round trip keeps names, order, shapes, values and metadata") {
  Generator gen(7);
  const Tensor matrix = Tensor::randn({3, 4}, gen);
  NamedTensors tensors = {
      {"tok.weight", matrix},
      {"scalar", Tensor::scalar(2.5f)},
      {"empty", Tensor::zeros({0, 3})},
      {"transposed", matrix.transpose(0, 1)},  // a strided view: written as contiguous data
  };
  const StringMetadata meta = {{"config", R"({"layers":2})"}, {"step", "10"}};
  const SafetensorsContents back = parse_safetensors(serialize_safetensors(tensors, meta), "mem");

  REQUIRE(back.tensors.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    CHECK(back.tensors[i].first == tensors[i].first);
    CHECK(back.tensors[i].second.shape() == tensors[i].second.shape());
    CHECK(back.tensors[i].second.to_vector() == tensors[i].second.to_vector());
  }
  CHECK(back.metadata == meta);
  CHECK(back.tensor("scalar").item() == 2.5f);
  CHECK_THROWS_WITH_AS(back.tensor("nope"), doctest::Contains("no tensor named 'nope'"), Error);
}

TEST_CASE("our file's layout, byte by byte") {
  const std::string bytes =
      serialize_safetensors({{"a", Tensor::from_data({1.0f, -2.0f}, {2})}}, {{"k", "v"}});
  const std::string json =
      R"({"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string padded = json + std::string((8 - json.size() % 8) % 8, ' ');
  CHECK(padded.size() % 8 == 0);
  const std::string expected =
      u64_le(padded.size()) + padded +
      std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8);  // 1.0f, -2.0f LE
  CHECK(bytes == expected);
}

TEST_CASE("reads a file built by hand as another writer lays it out") {
  // Keys in a different order from ours, metadata last, no padding, data order b then a.
  const std::string header =
      R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
      R"("a":{"dtype":"F32","shape":[2,1],"data_offsets":[4,12]},"__metadata__":{"format":"pt"}})";
  const SafetensorsContents c =
      parse_safetensors(file_with_header(header, f32_le({5.0f, 1.5f, -3.0f})), "hand");
  REQUIRE(c.tensors.size() == 2);
  CHECK(c.tensors[0].first == "b");  // file (data) order
  CHECK(c.tensor("b").to_vector() == std::vector<float>{5.0f});
  CHECK(c.tensor("a").shape() == Shape{2, 1});
  CHECK(c.tensor("a").to_vector() == std::vector<float>{1.5f, -3.0f});
  CHECK(c.metadata.at("format") == "pt");
}

TEST_CASE("malformed files raise an error naming the file and the problem") {
  const std::string good = serialize_safetensors({{"w", Tensor::ones({2, 2})}}, {});
  auto flipped = [&](size_t at) {
    std::string b = good;
    b[at] = static_cast<char>(b[at] ^ 0x20);
    return b;
  };
  auto hand = [](const std::string& entry, size_t data_bytes) {
    return file_with_header("{" + entry + "}", std::string(data_bytes, '\0'));
  };
  struct Row {
    std::string what;
    std::string bytes;
    const char* message;
  };
  const std::vector<Row> rows = {
      {"shorter than the length field", good.substr(0, 5),
       "too short for the 8-byte header length"},
      {"truncated inside the header", good.substr(0, 20),
       "exceeds the 12 bytes after the length field"},
      {"truncated data", good.substr(0, good.size() - 1), "exceed the 15 data bytes"},
      {"trailing bytes", good + "xxxx", "4 trailing data bytes"},
      {"header length 2^63", u64_le(uint64_t{1} << 63) + "{}", "exceeds the 100000000-byte limit"},
      {"flipped first header byte", flipped(8), "header does not start with '{'"},
      {"flipped quote in the header", flipped(9), "header is not valid JSON"},
      {"header is an array", file_with_header("{}", "").replace(8, 2, "[]"),
       "does not start with '{'"},
      {"bad dtype", hand(R"("w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]})", 4),
       "tensor 'w': dtype F16 is not supported (only F32)"},
      {"missing dtype", hand(R"("w":{"shape":[1],"data_offsets":[0,4]})", 4),
       "tensor 'w': missing \"dtype\""},
      {"shape vs span", hand(R"("w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]})", 8),
       "shape [3] needs 12 bytes but data_offsets [0, 8] span 8"},
      {"offsets out of range", hand(R"("w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]})", 8),
       "data_offsets [8, 16] exceed the 8 data bytes"},
      {"offsets backwards", hand(R"("w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]})", 8),
       "run backwards"},
      {"negative offset", hand(R"("w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]})", 0),
       "must be a non-negative integer"},
      {"negative dimension", hand(R"("w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]})", 4),
       "shape entry must be a non-negative integer"},
      {"overlap",
       hand(R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
            R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]})",
            12),
       "overlaps tensor 'a'"},
      {"gap", hand(R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]})", 8),
       "gap of 4 bytes before tensor 'a'"},
      {"hostile 1 TB tensor",
       hand(R"("w":{"dtype":"F32","shape":[262144,1048576],"data_offsets":[0,1099511627776]})", 16),
       "data_offsets [0, 1099511627776] exceed the 16 data bytes"},
      {"shape overflowing 64 bits",
       hand(R"("w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]})", 4),
       "is too large to address"},
      {"non-string metadata", hand(R"("__metadata__":{"step":3})", 0),
       "value for 'step' is not a string"},
      {"empty name", hand(R"("":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})", 4),
       "empty name"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    const std::string message = error_of(row.bytes);
    CHECK_MESSAGE(message.find("bad.safetensors") != std::string::npos, message);
    CHECK_MESSAGE(message.find(row.message) != std::string::npos, message);
  }
}

TEST_CASE("the writer refuses duplicate, empty and reserved names") {
  const Tensor t = Tensor::ones({1});
  CHECK_THROWS_WITH_AS(serialize_safetensors({{"a", t}, {"a", t}}, {}),
                       doctest::Contains("duplicate tensor name 'a'"), Error);
  CHECK_THROWS_WITH_AS(serialize_safetensors({{"", t}}, {}), doctest::Contains("empty name"),
                       Error);
  CHECK_THROWS_WITH_AS(serialize_safetensors({{"__metadata__", t}}, {}),
                       doctest::Contains("reserved"), Error);
}

TEST_CASE("files: atomic save, load, and errors that name the file") {
  ScratchDir dir("safetensors");
  const auto path = dir / "model.safetensors";
  const std::string path_text = path.string();
  save_safetensors(path, {{"w", Tensor::full({2}, 3.0f)}}, {{"step", "1"}});
  CHECK_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  CHECK(load_safetensors(path).tensor("w").to_vector() == std::vector<float>{3.0f, 3.0f});

  SUBCASE("a failed write leaves the previous file intact") {
    std::filesystem::create_directory(path.string() + ".tmp");  // the temp file cannot be created
    CHECK_THROWS_WITH_AS(save_safetensors(path, {{"w", Tensor::zeros({5})}}),
                         doctest::Contains(path_text.c_str()), Error);
    CHECK(load_safetensors(path).tensor("w").to_vector() == std::vector<float>{3.0f, 3.0f});
  }
  SUBCASE("a link planted at the temporary file is refused, never written through") {
    // (This once linked the temporary file to /dev/full to fake a full disk; a link there is
    // now an error. Full disks: io::inject_write_failure_after in test_checkpoint_faults.)
    const auto outside = dir / "outside";
    std::ofstream(outside) << "precious";
    std::filesystem::create_symlink(outside, path.string() + ".tmp");
    CHECK_THROWS_WITH_AS(save_safetensors(path, {{"w", Tensor::zeros({5})}}),
                         doctest::Contains("a symbolic link is in its place"), Error);
    CHECK(std::filesystem::file_size(outside) == 8);  // "precious", untouched
    CHECK(load_safetensors(path).tensor("w").to_vector() == std::vector<float>{3.0f, 3.0f});
  }
  SUBCASE("a missing directory is an error naming the file") {
    const auto missing = dir / "no/such/dir/x.safetensors";
    const std::string missing_text = missing.string();
    CHECK_THROWS_WITH_AS(save_safetensors(missing, {{"w", Tensor::zeros({1})}}),
                         doctest::Contains(missing_text.c_str()), Error);
  }
  SUBCASE("a writer-side error names the file too") {
    CHECK_THROWS_WITH_AS(
        save_safetensors(path, {{"a", Tensor::zeros({1})}, {"a", Tensor::zeros({1})}}),
        doctest::Contains(path_text.c_str()), Error);
  }
  SUBCASE("a missing file") {
    CHECK_THROWS_WITH_AS(load_safetensors(dir / "absent.safetensors"),
                         doctest::Contains("absent.safetensors"), Error);
  }
  SUBCASE("a truncated file on disk") {
    const std::string bytes = read_file_bytes(path);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 2);
    CHECK_THROWS_WITH_AS(load_safetensors(path), doctest::Contains(path_text.c_str()), Error);
  }
}
