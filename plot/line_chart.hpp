// LineChart: named series of (x, y) drawn as lines and/or markers on fitted axes, with a
// legend, optional log-y, reference lines (e.g. y = x, breakpoints) and text annotations.
#pragma once

#include <string>
#include <vector>

#include "plot/axes.hpp"
#include "plot/legend.hpp"

namespace mmx::plot {

struct Series {
  std::string name;  // empty: not listed in the legend
  std::vector<double> x, y;
  Color color;
  bool line = true;
  Marker marker = Marker::None;
  double line_width = 2.0;
  double marker_radius = 4.5;
  Dash dash{};
};

// A straight line across the plot: vertical at x = value, horizontal at y = value, or the
// diagonal y = x (value unused).
struct ReferenceLine {
  enum class Kind { Vertical, Horizontal, Identity } kind = Kind::Vertical;
  double value = 0;
  std::string label;  // written next to the line
  Color color = colors::muted;
  Dash dash{6, 4};
};

struct Annotation {
  double x = 0, y = 0;
  std::string text;
  Color color = colors::black;
};

enum class LegendPlace { Best, TopLeft, TopRight, BottomLeft, BottomRight, Hidden };

struct LineChart {
  std::string title;
  AxisSpec x_axis, y_axis;
  LegendPlace legend = LegendPlace::Best;
  std::vector<Series> series;
  std::vector<ReferenceLine> references;
  std::vector<Annotation> annotations;

  // Adds a series with the next palette colour; returns it to adjust style. x and y must have
  // the same length.
  Series& add_series(std::string name, std::vector<double> x, std::vector<double> y);
  Series& add_points(std::string name, std::vector<double> x, std::vector<double> y, Marker marker);

  void draw(Canvas& canvas, const Rect& area) const;
  void save_png(const std::string& path, int width = 800, int height = 560) const;
};

}  // namespace mmx::plot
