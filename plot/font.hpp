// Text rasterisation through FreeType with the DejaVu Sans font: a string becomes an alpha
// mask that Canvas blends in any colour. The font is loaded once, on first use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mmx::plot {

inline constexpr const char* kFontPath = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

// A rendered line of text: coverage in [0, 255], row-major, `baseline` rows from the top.
struct TextMask {
  int width = 0;
  int height = 0;
  int baseline = 0;
  std::vector<uint8_t> alpha;
};

// Renders UTF-8 `text` at `pixel_size` (the em height in pixels). Throws mmx::Error when the
// font file is missing (naming the Debian package to install) or the text is not UTF-8.
TextMask render_text(std::string_view text, double pixel_size);

// Advance width in pixels, without rasterising.
double text_width(std::string_view text, double pixel_size);

}  // namespace mmx::plot
