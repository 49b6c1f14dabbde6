// RGB images and their PNG files (libpng). A figure is encoded in memory and written with
// io::write_file_atomically, so a reader never sees half a figure; every failure is an
// mmx::Error naming the path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plot/color.hpp"

namespace mmx::plot {

// 8-bit RGB pixels, row-major, top row first.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // width * height * 3

  Color at(int x, int y) const;
};

void write_png(const std::string& path, const RgbImage& image);
// Reads any 8/16-bit PNG (grey, palette, alpha are converted) as 8-bit RGB.
RgbImage read_png(const std::string& path);

}  // namespace mmx::plot
