// Axes: maps data coordinates to pixels inside a chart's area and draws what frames the data
// (grid, frame, "nice" ticks at 1/2/5 x 10^k, tick labels, axis labels, title).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plot/canvas.hpp"

namespace mmx::plot {

// Ticks at multiples of a 1, 2 or 5 x 10^k step, about `target` of them inside [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target = 6);
// Powers of ten inside [lo, hi] (both > 0); at least the two decades around the range.
std::vector<double> log_ticks(double lo, double hi);
// A tick label with as many decimals as the step between ticks needs ("0.25", "10", "1e-05").
std::string format_tick(double value, double step);

enum class Scale { Linear, Log };

struct AxisSpec {
  std::string label;
  Scale scale = Scale::Linear;
  std::optional<std::pair<double, double>> range;  // fixed range; otherwise fitted to the data
};

inline constexpr double kTitleSize = 17, kLabelSize = 14, kTickSize = 12;

class Axes {
 public:
  // `xs`/`ys`: every data coordinate, to fit ranges that are not fixed (non-finite values and,
  // on a log axis, values <= 0 are ignored).
  Axes(const Rect& area, std::string title, AxisSpec x, AxisSpec y, const std::vector<double>& xs,
       const std::vector<double>& ys);

  const Rect& plot_area() const { return plot_; }
  Point to_pixel(double x, double y) const;
  std::pair<double, double> x_range() const { return {x_lo_, x_hi_}; }
  std::pair<double, double> y_range() const { return {y_lo_, y_hi_}; }

  void draw_grid(Canvas& canvas) const;   // before the data
  void draw_frame(Canvas& canvas) const;  // after the data: frame, ticks, labels, title

 private:
  double map(double v, double lo, double hi, Scale scale) const;
  std::vector<double> ticks(double lo, double hi, Scale scale, int target) const;

  Rect area_, plot_;
  std::string title_;
  AxisSpec x_, y_;
  double x_lo_ = 0, x_hi_ = 1, y_lo_ = 0, y_hi_ = 1;
};

}  // namespace mmx::plot
