#include "nn/data/idx_reader.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "engine/error.hpp"
#include "engine/io/read_file.hpp"

namespace mmx::data {

namespace {

constexpr uint8_t kUnsignedByte = 0x08;
// The payload is read this much at a time, so a header that lies about its size costs at most
// one chunk of memory beyond what the file really holds.
constexpr int64_t kChunkBytes = int64_t{4} << 20;

const char* idx_type_name(uint8_t type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "not an IDX type";
  }
}

std::string hex_byte(uint8_t b) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  return std::string("0x") + kDigits[b >> 4] + kDigits[b & 0xF];
}

int64_t big_endian_u32(const uint8_t* b) {
  return (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | int64_t{b[3]};
}

std::string dims_string(const std::vector<int64_t>& dims) {
  std::string out;
  for (const int64_t d : dims) out += cat(out.empty() ? "" : " x ", d);
  return out;
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// A gzip or plain file (gzread passes plain files through), read with checked errors.
class IdxFile {
 public:
  explicit IdxFile(const std::filesystem::path& path) : path_(path) {
    // gzopen accepts a directory and only fails at the first read, with a misleading message.
    if (std::filesystem::is_directory(path)) fail("is a directory, not an IDX file");
    io::require_regular_file(path);  // gzopen would wait forever on a FIFO
    errno = 0;
    file_.reset(gzopen(path.c_str(), "rb"));
    if (!file_) fail(cat("cannot open (", errno ? std::strerror(errno) : "out of memory", ")"));
  }

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(cat("read_idx: ", path_.string(), ": ", problem));
  }

  // Up to n bytes; fewer only at the end of the data. Corrupt gzip data throws.
  int64_t read_some(uint8_t* out, int64_t n) {
    int64_t got = 0;
    while (got < n) {
      const auto ask = static_cast<unsigned>(std::min<int64_t>(n - got, int64_t{1} << 30));
      const int r = gzread(file_.get(), out + got, ask);
      if (r < 0) fail(cat("corrupt gzip data (", zlib_message(), ")"));
      if (r == 0) break;
      got += r;
    }
    // zlib reports a gzip stream cut short as Z_BUF_ERROR once the input runs out.
    int code = Z_OK;
    gzerror(file_.get(), &code);
    if (got < n && code == Z_BUF_ERROR) fail("truncated gzip stream (the file ends mid-stream)");
    if (code != Z_OK && code != Z_BUF_ERROR) fail(cat("corrupt gzip data (", zlib_message(), ")"));
    return got;
  }

  // Exactly n bytes of `what`, or an error saying how many the file held. `before` counts the
  // bytes of the file read before this part, so the message gives absolute sizes.
  void read_exact(uint8_t* out, int64_t n, const char* what, int64_t before) {
    const int64_t got = read_some(out, n);
    if (got < n)
      fail(cat("truncated: the ", what, " needs ", before + n, " bytes, the data ends after ",
               before + got));
  }

 private:
  std::string zlib_message() const {
    int code = Z_OK;
    const char* message = gzerror(file_.get(), &code);
    std::string text = message && *message ? message : cat("zlib code ", code);
    // zlib prefixes the path, which fail() already gives.
    const std::string prefix = path_.string() + ": ";
    if (text.starts_with(prefix)) text.erase(0, prefix.size());
    return text;
  }

  std::filesystem::path path_;
  std::unique_ptr<gzFile_s, GzCloser> file_;
};

}  // namespace

IdxArray read_idx(const std::filesystem::path& path, int64_t max_bytes) {
  MMX_CHECK(max_bytes >= 0, "read_idx: max_bytes must be >= 0, got ", max_bytes);
  IdxFile file(path);

  std::array<uint8_t, 4> magic{};
  file.read_exact(magic.data(), 4, "header", 0);
  if (magic[0] != 0 || magic[1] != 0)
    file.fail(cat("bad magic: starts with ", hex_byte(magic[0]), " ", hex_byte(magic[1]),
                  ", an IDX file starts with 0x00 0x00"));
  if (magic[2] != kUnsignedByte)
    file.fail(cat("data type ", hex_byte(magic[2]), " (", idx_type_name(magic[2]),
                  ") is not supported, only 0x08 (unsigned byte)"));
  const int rank = magic[3];
  if (rank == 0) file.fail("rank 0: an IDX array needs at least one dimension");

  std::vector<uint8_t> header(static_cast<size_t>(4 * rank));
  file.read_exact(header.data(), 4 * rank, "header", 4);
  IdxArray array;
  for (size_t at = 0; at < header.size(); at += 4)
    array.dims.push_back(big_endian_u32(&header[at]));
  int64_t bytes = 1;
  for (const int64_t size : array.dims) {
    // Checked before each multiplication, so neither the product nor the allocation can explode.
    if (size != 0 && bytes > max_bytes / size)
      file.fail(cat("dims ", dims_string(array.dims), " claim more than the limit of ", max_bytes,
                    " bytes"));
    bytes *= size;
  }

  const int64_t header_bytes = 4 + 4 * rank;
  array.values.reserve(static_cast<size_t>(std::min(bytes, kChunkBytes)));
  for (int64_t done = 0; done < bytes;) {
    const int64_t n = std::min(bytes - done, kChunkBytes);
    array.values.resize(static_cast<size_t>(done + n));
    file.read_exact(array.values.data() + done, n, "payload", header_bytes + done);
    done += n;
  }
  // Reading past the end also makes zlib check the gzip trailer (CRC and length).
  uint8_t extra = 0;
  if (file.read_some(&extra, 1) != 0)
    file.fail(cat("trailing data after the ", header_bytes + bytes, " bytes the header describes"));
  return array;
}

}  // namespace mmx::data
