#include "plot/legend.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "plot/font.hpp"

namespace mmx::plot {

void draw_marker(Canvas& canvas, Point c, Marker marker, double r, Color color) {
  switch (marker) {
    case Marker::None: return;
    case Marker::Circle:
      canvas.fill_circle(c, r, color);
      canvas.stroke_circle(c, r, colors::white, 1.0);  // a rim separates overlapping points
      return;
    case Marker::Square: {
      const double h = r * 0.9;
      canvas.fill_polygon(
          {{c.x - h, c.y - h}, {c.x + h, c.y - h}, {c.x + h, c.y + h}, {c.x - h, c.y + h}}, color);
      return;
    }
    case Marker::Triangle: {
      const double s = r * 1.2;
      canvas.fill_polygon({{c.x, c.y - s},
                           {c.x + s * std::numbers::sqrt3 / 2, c.y + s / 2},
                           {c.x - s * std::numbers::sqrt3 / 2, c.y + s / 2}},
                          color);
      return;
    }
    case Marker::Diamond: {
      const double s = r * 1.25;
      canvas.fill_polygon({{c.x, c.y - s}, {c.x + s, c.y}, {c.x, c.y + s}, {c.x - s, c.y}}, color);
      return;
    }
  }
}

namespace {
constexpr double kRow = 20, kPad = 8, kSwatch = 28, kGap = 6;
}

Rect legend_box(const std::vector<LegendEntry>& entries, Point top_left) {
  double widest = 0;
  for (const LegendEntry& e : entries)
    widest = std::max(widest, text_width(e.name, kLegendTextSize));
  return {top_left.x, top_left.y, kPad * 2 + kSwatch + kGap + widest,
          kPad * 2 + kRow * static_cast<double>(entries.size())};
}

void draw_legend(Canvas& canvas, const std::vector<LegendEntry>& entries, Point top_left) {
  if (entries.empty()) return;
  const Rect box = legend_box(entries, top_left);
  canvas.fill_rect(box, colors::white);
  canvas.stroke_rect(box, colors::grid, 1.0);
  for (size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry& e = entries[i];
    const double mid_y = box.y + kPad + kRow * (static_cast<double>(i) + 0.5);
    const double x0 = box.x + kPad;
    if (e.line) canvas.line({x0, mid_y}, {x0 + kSwatch, mid_y}, e.color, 2.0, e.dash);
    draw_marker(canvas, {x0 + kSwatch / 2, mid_y}, e.marker, 4.5, e.color);
    canvas.text({x0 + kSwatch + kGap, mid_y}, e.name,
                {.size = kLegendTextSize, .color = colors::black, .valign = VAlign::Middle});
  }
}

}  // namespace mmx::plot
