#include "plot/font.hpp"

#include <ft2build.h>
#include FT_FREETYPE_H

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>

#include "engine/error.hpp"

namespace mmx::plot {

namespace {

// One FreeType library and face for the process. FreeType objects are not thread-safe, so
// every use goes through the mutex.
struct Font {
  FT_Library library = nullptr;
  FT_Face face = nullptr;
  std::mutex mutex;

  Font() {
    MMX_CHECK(std::filesystem::exists(kFontPath), "plot: font ", kFontPath,
              " not found; install it with `apt-get install fonts-dejavu-core`");
    MMX_CHECK(FT_Init_FreeType(&library) == 0, "plot: FreeType failed to initialise");
    if (FT_New_Face(library, kFontPath, 0, &face) != 0) {
      FT_Done_FreeType(library);
      throw Error(cat("plot: FreeType cannot read the font ", kFontPath,
                      "; reinstall it with `apt-get install --reinstall fonts-dejavu-core`"));
    }
  }
  ~Font() {
    FT_Done_Face(face);
    FT_Done_FreeType(library);
  }
  Font(const Font&) = delete;
  Font& operator=(const Font&) = delete;

  void set_size(double pixel_size) {
    const auto px = static_cast<FT_UInt>(std::clamp(std::lround(pixel_size), 4L, 400L));
    MMX_CHECK(FT_Set_Pixel_Sizes(face, 0, px) == 0, "plot: cannot size the font to ", px, "px");
  }
};

Font& font() {
  static Font instance;
  return instance;
}

std::vector<char32_t> decode_utf8(std::string_view text) {
  std::vector<char32_t> out;
  for (size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const int extra = lead < 0x80           ? 0
                      : (lead >> 5) == 0x6  ? 1
                      : (lead >> 4) == 0xE  ? 2
                      : (lead >> 3) == 0x1E ? 3
                                            : -1;
    MMX_CHECK(extra >= 0 && i + static_cast<size_t>(extra) < text.size(),
              "plot: text is not valid UTF-8: '", text, "'");
    char32_t code = extra == 0 ? lead : lead & (0x3F >> extra);
    for (int k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + static_cast<size_t>(k)]);
      MMX_CHECK((next & 0xC0) == 0x80, "plot: text is not valid UTF-8: '", text, "'");
      code = (code << 6) | (next & 0x3F);
    }
    out.push_back(code);
    i += static_cast<size_t>(extra) + 1;
  }
  return out;
}

}  // namespace

double text_width(std::string_view text, double pixel_size) {
  Font& f = font();
  std::lock_guard lock(f.mutex);
  f.set_size(pixel_size);
  double width = 0;
  for (char32_t code : decode_utf8(text)) {
    if (FT_Load_Char(f.face, code, FT_LOAD_DEFAULT) != 0) continue;
    width += static_cast<double>(f.face->glyph->advance.x) / 64.0;
  }
  return width;
}

TextMask render_text(std::string_view text, double pixel_size) {
  Font& f = font();
  std::lock_guard lock(f.mutex);
  f.set_size(pixel_size);
  const FT_Size_Metrics& metrics = f.face->size->metrics;
  TextMask mask;
  mask.baseline = static_cast<int>(std::ceil(static_cast<double>(metrics.ascender) / 64.0));
  const int descent = static_cast<int>(std::ceil(-static_cast<double>(metrics.descender) / 64.0));
  mask.height = mask.baseline + descent;
  const std::vector<char32_t> codes = decode_utf8(text);

  // First pass measures, second pass draws: glyph bitmaps are reused by FreeType per call.
  double pen = 0;
  for (char32_t code : codes)
    if (FT_Load_Char(f.face, code, FT_LOAD_DEFAULT) == 0)
      pen += static_cast<double>(f.face->glyph->advance.x) / 64.0;
  mask.width = std::max(1, static_cast<int>(std::ceil(pen)) + 2);
  mask.alpha.assign(static_cast<size_t>(mask.width) * static_cast<size_t>(mask.height), 0);

  pen = 0;
  for (char32_t code : codes) {
    if (FT_Load_Char(f.face, code, FT_LOAD_RENDER) != 0) continue;
    const FT_GlyphSlot glyph = f.face->glyph;
    const FT_Bitmap& bitmap = glyph->bitmap;
    const int left = static_cast<int>(std::lround(pen)) + glyph->bitmap_left;
    const int top = mask.baseline - glyph->bitmap_top;
    for (unsigned row = 0; row < bitmap.rows; ++row) {
      for (unsigned col = 0; col < bitmap.width; ++col) {
        const int x = left + static_cast<int>(col);
        const int y = top + static_cast<int>(row);
        if (x < 0 || y < 0 || x >= mask.width || y >= mask.height) continue;
        uint8_t& dst = mask.alpha[static_cast<size_t>(y) * static_cast<size_t>(mask.width) +
                                  static_cast<size_t>(x)];
        dst = std::max(dst, bitmap.buffer[row * static_cast<unsigned>(bitmap.pitch) + col]);
      }
    }
    pen += static_cast<double>(glyph->advance.x) / 64.0;
  }
  return mask;
}

}  // namespace mmx::plot
