#include "plot/line_chart.hpp"

#include <cmath>
#include <limits>

#include "engine/error.hpp"

namespace mmx::plot {

Series& LineChart::add_series(std::string name, std::vector<double> x, std::vector<double> y) {
  MMX_CHECK(x.size() == y.size(), "LineChart::add_series: '", name, "' has ", x.size(),
            " x values and ", y.size(), " y values");
  Series s;
  s.name = std::move(name);
  s.x = std::move(x);
  s.y = std::move(y);
  s.color = palette(static_cast<int>(series.size()));
  series.push_back(std::move(s));
  return series.back();
}

Series& LineChart::add_points(std::string name, std::vector<double> x, std::vector<double> y,
                              Marker marker) {
  Series& s = add_series(std::move(name), std::move(x), std::move(y));
  s.line = false;
  s.marker = marker == Marker::None ? Marker::Circle : marker;
  return s;
}

namespace {

bool plottable(double x, double y, const AxisSpec& xs, const AxisSpec& ys) {
  return std::isfinite(x) && std::isfinite(y) && (xs.scale == Scale::Linear || x > 0) &&
         (ys.scale == Scale::Linear || y > 0);
}

// The corner whose legend box covers the fewest data points (ties: the order listed).
Point legend_corner(LegendPlace place, const Rect& plot, const Rect& box_size,
                    const std::vector<Point>& points) {
  const double m = 8;
  const Point corners[4] = {
      {plot.x + m, plot.y + m},
      {plot.right() - m - box_size.width, plot.y + m},
      {plot.x + m, plot.bottom() - m - box_size.height},
      {plot.right() - m - box_size.width, plot.bottom() - m - box_size.height}};
  switch (place) {
    case LegendPlace::TopLeft: return corners[0];
    case LegendPlace::TopRight: return corners[1];
    case LegendPlace::BottomLeft: return corners[2];
    case LegendPlace::BottomRight: return corners[3];
    default: break;
  }
  int best = 1;
  size_t fewest = std::numeric_limits<size_t>::max();
  for (int order : {1, 0, 3, 2}) {
    const Rect box{corners[order].x, corners[order].y, box_size.width, box_size.height};
    size_t covered = 0;
    for (const Point& p : points) covered += box.inset(-6, -6, -6, -6).contains(p);
    if (covered < fewest) fewest = covered, best = order;
  }
  return corners[best];
}

}  // namespace

void LineChart::draw(Canvas& canvas, const Rect& area) const {
  std::vector<double> xs, ys;
  for (const Series& s : series) {
    MMX_CHECK(s.x.size() == s.y.size(), "LineChart: series '", s.name, "' has ", s.x.size(),
              " x values and ", s.y.size(), " y values");
    xs.insert(xs.end(), s.x.begin(), s.x.end());
    ys.insert(ys.end(), s.y.begin(), s.y.end());
  }
  for (const Annotation& a : annotations) xs.push_back(a.x), ys.push_back(a.y);
  const Axes axes(area, title, x_axis, y_axis, xs, ys);
  const Rect& plot = axes.plot_area();
  axes.draw_grid(canvas);

  canvas.set_clip(plot);
  const auto [x_lo, x_hi] = axes.x_range();
  const auto [y_lo, y_hi] = axes.y_range();
  for (const ReferenceLine& r : references) {
    Point a, b;
    if (r.kind == ReferenceLine::Kind::Vertical)
      a = axes.to_pixel(r.value, y_lo), b = axes.to_pixel(r.value, y_hi);
    else if (r.kind == ReferenceLine::Kind::Horizontal)
      a = axes.to_pixel(x_lo, r.value), b = axes.to_pixel(x_hi, r.value);
    else
      a = axes.to_pixel(std::min(x_lo, y_lo), std::min(x_lo, y_lo)),
      b = axes.to_pixel(std::max(x_hi, y_hi), std::max(x_hi, y_hi));
    canvas.line(a, b, r.color, 1.5, r.dash);
    if (!r.label.empty()) {
      const Point at = r.kind == ReferenceLine::Kind::Vertical ? Point{a.x + 4, plot.y + 6}
                                                               : Point{plot.x + 6, a.y - 4};
      canvas.text(
          at, r.label,
          {.size = kTickSize,
           .color = r.color,
           .valign = r.kind == ReferenceLine::Kind::Vertical ? VAlign::Top : VAlign::Bottom});
    }
  }
  std::vector<Point> drawn;  // every data point, for placing the legend
  for (const Series& s : series) {
    std::vector<Point> run;  // a line breaks at points it cannot plot (NaN, <= 0 on log)
    auto flush = [&] {
      if (s.line && run.size() >= 2) canvas.polyline(run, s.color, s.line_width, s.dash);
      run.clear();
    };
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!plottable(s.x[i], s.y[i], x_axis, y_axis)) {
        flush();
        continue;
      }
      run.push_back(axes.to_pixel(s.x[i], s.y[i]));
      drawn.push_back(run.back());
    }
    flush();
    for (size_t i = 0; i < s.x.size(); ++i)
      if (s.marker != Marker::None && plottable(s.x[i], s.y[i], x_axis, y_axis))
        draw_marker(canvas, axes.to_pixel(s.x[i], s.y[i]), s.marker, s.marker_radius, s.color);
  }
  for (const Annotation& a : annotations)
    if (plottable(a.x, a.y, x_axis, y_axis))
      canvas.text(axes.to_pixel(a.x, a.y), a.text, {.size = kTickSize, .color = a.color});
  canvas.set_clip(std::nullopt);
  axes.draw_frame(canvas);

  std::vector<LegendEntry> entries;
  for (const Series& s : series)
    if (!s.name.empty()) entries.push_back({s.name, s.color, s.line, s.dash, s.marker});
  if (legend != LegendPlace::Hidden && !entries.empty()) {
    const Rect size = legend_box(entries, {0, 0});
    draw_legend(canvas, entries, legend_corner(legend, plot, size, drawn));
  }
}

void LineChart::save_png(const std::string& path, int width, int height) const {
  Canvas canvas(width, height);
  draw(canvas, canvas.bounds());
  canvas.save_png(path);
}

}  // namespace mmx::plot
