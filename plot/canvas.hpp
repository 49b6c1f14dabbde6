// Canvas: an RGB image with anti-aliased drawing (lines, polylines, circles, polygons, text)
// and save_png. The charts in this folder draw onto a Canvas inside a Rect they are given.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plot/color.hpp"
#include "plot/png_io.hpp"

namespace mmx::plot {

// Pixel coordinates: x to the right, y down, (0, 0) the top-left corner of the top-left pixel.
struct Point {
  double x = 0, y = 0;
};

struct Rect {
  double x = 0, y = 0, width = 0, height = 0;
  double right() const { return x + width; }
  double bottom() const { return y + height; }
  bool contains(Point p) const { return p.x >= x && p.x <= right() && p.y >= y && p.y <= bottom(); }
  // This rect shrunk by the given margins.
  Rect inset(double left, double top, double right_margin, double bottom_margin) const;
};

// Cell `index` (row-major) of a rows x cols grid laid over `area`: figures with several panels.
Rect grid_cell(const Rect& area, int rows, int cols, int index);

enum class HAlign { Left, Center, Right };
enum class VAlign { Top, Middle, Baseline, Bottom };
// Up: the text reads bottom to top (rotated 90 degrees counter-clockwise), as y-axis labels do.
enum class TextDirection { Horizontal, Up };

struct TextStyle {
  double size = 14;  // pixels per em
  Color color = colors::black;
  HAlign halign = HAlign::Left;
  VAlign valign = VAlign::Baseline;
  TextDirection direction = TextDirection::Horizontal;
};

// Dash pattern in pixels along the line: {on, off}. Empty: solid.
struct Dash {
  double on = 0, off = 0;
  bool solid() const { return on <= 0 || off <= 0; }
};

class Canvas {
 public:
  Canvas(int width, int height, Color background = colors::white);

  int width() const { return image_.width; }
  int height() const { return image_.height; }
  Rect bounds() const {
    return {0, 0, static_cast<double>(width()), static_cast<double>(height())};
  }
  Color pixel(int x, int y) const { return image_.at(x, y); }
  const RgbImage& image() const { return image_; }

  // Drawing outside `clip` is dropped (charts clip data to their plot area). Reset with nullopt.
  void set_clip(std::optional<Rect> clip) { clip_ = clip; }

  // Mixes `color` into one pixel with opacity `alpha` in [0, 1].
  void blend(int x, int y, Color color, double alpha);
  void fill_rect(const Rect& rect, Color color);
  void stroke_rect(const Rect& rect, Color color, double line_width = 1);
  void line(Point a, Point b, Color color, double line_width = 1.5, Dash dash = {});
  // Joints are drawn once (coverage is the max over segments), so they don't darken.
  void polyline(const std::vector<Point>& points, Color color, double line_width = 1.5,
                Dash dash = {});
  void fill_circle(Point center, double radius, Color color);
  void stroke_circle(Point center, double radius, Color color, double line_width = 1);
  void fill_polygon(const std::vector<Point>& vertices, Color color);
  // Draws `text` so that its alignment point (see TextStyle) sits at `anchor`.
  void text(Point anchor, std::string_view text, const TextStyle& style);
  double text_width(std::string_view text, double size) const;

  void save_png(const std::string& path) const { write_png(path, image_); }

 private:
  bool visible(int x, int y) const;
  RgbImage image_;
  std::optional<Rect> clip_;
};

}  // namespace mmx::plot
