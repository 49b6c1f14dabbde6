// Fuzzes parse_safetensors: any bytes either parse or raise mmx::Error, never crash, overflow
// or allocate what the file does not hold. What parses must serialise and parse back the same.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "engine/error.hpp"
#include "engine/io/safetensors.hpp"

namespace {

bool same_contents(const mmx::io::SafetensorsContents& a, const mmx::io::SafetensorsContents& b) {
  if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size()) return false;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const mmx::Tensor& x = a.tensors[i].second;
    const mmx::Tensor& y = b.tensors[i].second;
    if (a.tensors[i].first != b.tensors[i].first || x.shape() != y.shape()) return false;
    // Bytes, not floats: NaN payloads must survive too.
    if (std::memcmp(x.data(), y.data(), static_cast<size_t>(x.numel()) * sizeof(float)) != 0)
      return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  mmx::io::SafetensorsContents contents;
  try {
    contents = mmx::io::parse_safetensors(bytes, "fuzz");
  } catch (const mmx::Error&) {
    return 0;  // a clear refusal is the expected outcome for most inputs
  }
  const std::string again = mmx::io::serialize_safetensors(contents.tensors, contents.metadata);
  if (!same_contents(contents, mmx::io::parse_safetensors(again, "round trip"))) std::abort();
  return 0;
}
