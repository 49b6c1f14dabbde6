// Fuzzes the text path of a character model: UTF-8 decoding, the tokenizer built from the
// text (encode/decode must round-trip), and CharTokenizer::from_json on the same bytes.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "engine/error.hpp"
#include "engine/io/json_input.hpp"
#include "nn/data/char_tokenizer.hpp"
#include "nn/data/utf8.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const mmx::data::DecodedText decoded = mmx::data::decode_utf8(bytes);
  if (decoded.replaced == 0 && mmx::data::encode_utf8(decoded.code_points) != bytes) std::abort();
  if (!decoded.code_points.empty()) {
    const auto tokenizer = mmx::data::CharTokenizer::from_text(decoded.code_points);
    const std::vector<int64_t> ids = tokenizer.encode(decoded.code_points);
    if (tokenizer.decode(ids) != mmx::data::encode_utf8(decoded.code_points)) std::abort();
  }
  // A tokenizer stored in a checkpoint is JSON read back from the file, as the loader reads it.
  try {
    if (const std::optional<nlohmann::json> json = mmx::io::parse_json_if_valid(bytes, "fuzz")) {
      const auto tokenizer = mmx::data::CharTokenizer::from_json(*json);
      if (mmx::data::CharTokenizer::from_json(tokenizer.to_json()).vocab() != tokenizer.vocab())
        std::abort();
    }
  } catch (const mmx::Error&) {
  }
  return 0;
}
