// Markers (the shapes drawn at data points) and legends (a boxed list of swatch + name) shared
// by every chart, so a line chart, a simplex panel and a multi-panel figure label alike.
#pragma once

#include <string>
#include <vector>

#include "plot/canvas.hpp"

namespace mmx::plot {

enum class Marker { None, Circle, Square, Triangle, Diamond };

void draw_marker(Canvas& canvas, Point center, Marker marker, double radius, Color color);

struct LegendEntry {
  std::string name;
  Color color;
  bool line = true;  // draw a line sample
  Dash dash{};
  Marker marker = Marker::None;
};

inline constexpr double kLegendTextSize = 13;

// Size of the legend box for these entries (one entry per row).
Rect legend_box(const std::vector<LegendEntry>& entries, Point top_left);
void draw_legend(Canvas& canvas, const std::vector<LegendEntry>& entries, Point top_left);

}  // namespace mmx::plot
