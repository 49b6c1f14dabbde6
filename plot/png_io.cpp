#include "plot/png_io.hpp"

#include <png.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "engine/error.hpp"
#include "engine/io/atomic_write.hpp"

namespace mmx::plot {

Color RgbImage::at(int x, int y) const {
  MMX_CHECK(x >= 0 && y >= 0 && x < width && y < height, "RgbImage::at: pixel (", x, ", ", y,
            ") outside a ", width, "x", height, " image");
  const size_t i =
      (static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) * 3;
  return {pixels[i], pixels[i + 1], pixels[i + 2]};
}

namespace {

// libpng reports errors by longjmp; these helpers keep every object with a destructor out of
// the setjmp frame and return false instead, so the C++ callers can throw.

// libpng's output callback: appends to the std::string behind the io pointer. An allocation
// failure must not unwind through libpng's C frames: it becomes a libpng error (a longjmp).
void append_bytes(png_structp png, png_bytep data, size_t length) {
  try {
    static_cast<std::string*>(png_get_io_ptr(png))
        ->append(reinterpret_cast<const char*>(data), length);
  } catch (...) {
    png_error(png, "out of memory");
  }
}

void no_flush(png_structp) {}

bool encode_rows(std::string* bytes, const RgbImage& image) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) return false;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, bytes, append_bytes, no_flush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width),
               static_cast<png_uint_32>(image.height), 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const size_t stride = static_cast<size_t>(image.width) * 3;
  for (int y = 0; y < image.height; ++y)
    png_write_row(png, image.pixels.data() + static_cast<size_t>(y) * stride);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

// Decodes any PNG as 8-bit RGB (libpng's transforms do the conversions).
bool decode_rows(std::FILE* file, int* width, int* height, std::vector<uint8_t>* pixels) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) return false;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_init_io(png, file);
  png_read_info(png, info);
  png_set_strip_16(png);
  png_set_palette_to_rgb(png);
  png_set_expand_gray_1_2_4_to_8(png);
  png_set_gray_to_rgb(png);
  png_set_strip_alpha(png);
  png_read_update_info(png, info);
  *width = static_cast<int>(png_get_image_width(png, info));
  *height = static_cast<int>(png_get_image_height(png, info));
  const size_t stride = png_get_rowbytes(png, info);
  if (stride != static_cast<size_t>(*width) * 3) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  pixels->resize(stride * static_cast<size_t>(*height));
  for (int y = 0; y < *height; ++y)
    png_read_row(png, pixels->data() + static_cast<size_t>(y) * stride, nullptr);
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

}  // namespace

void write_png(const std::string& path, const RgbImage& image) {
  MMX_CHECK(image.width > 0 && image.height > 0 &&
                image.pixels.size() == static_cast<size_t>(image.width) * image.height * 3,
            "write_png: image is ", image.width, "x", image.height, " with ", image.pixels.size(),
            " bytes; expected width*height*3 > 0");
  // Encoded in memory, then written as every other file is (io::write_file_atomically): staged,
  // renamed into place, never through a planted link or over a device.
  std::string bytes;
  MMX_CHECK(encode_rows(&bytes, image), "write_png: failed to encode '", path, "'");
  io::write_file_atomically(path, bytes);
}

RgbImage read_png(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  MMX_CHECK(file != nullptr, "read_png: cannot open '", path, "': ", std::strerror(errno));
  RgbImage image;
  const bool decoded = decode_rows(file, &image.width, &image.height, &image.pixels);
  std::fclose(file);
  MMX_CHECK(decoded, "read_png: '", path, "' is not a readable PNG");
  return image;
}

}  // namespace mmx::plot
