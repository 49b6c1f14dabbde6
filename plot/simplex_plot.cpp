#include "plot/simplex_plot.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "engine/error.hpp"
#include "plot/axes.hpp"

namespace mmx::plot {

Point simplex_point(const Distribution3& p, Point a, Point b, Point c) {
  return {p[0] * a.x + p[1] * b.x + p[2] * c.x, p[0] * a.y + p[1] * b.y + p[2] * c.y};
}

SimplexPath& SimplexPlot::add_path(std::string name, std::vector<Distribution3> points) {
  SimplexPath path;
  path.name = std::move(name);
  path.points = std::move(points);
  path.color = palette(static_cast<int>(paths.size()));
  paths.push_back(std::move(path));
  return paths.back();
}

void SimplexPlot::draw(Canvas& canvas, const Rect& area) const {
  for (const SimplexPath& path : paths)
    for (const Distribution3& p : path.points)
      MMX_CHECK(p[0] >= -1e-6 && p[1] >= -1e-6 && p[2] >= -1e-6 &&
                    std::abs(p[0] + p[1] + p[2] - 1) < 1e-3,
                "SimplexPlot: path '", path.name, "' has (", p[0], ", ", p[1], ", ", p[2],
                "), which is not a distribution");

  std::vector<LegendEntry> entries;
  if (show_legend)
    for (const SimplexPath& path : paths)
      if (!path.name.empty()) entries.push_back({path.name, path.color, true, {}, path.marker});
  const Rect legend_size = legend_box(entries, {0, 0});

  // The largest equilateral triangle that fits under the title, beside the legend, with room
  // for the corner labels.
  const double top = (title.empty() ? 12 : kTitleSize + 18) + kLabelSize + 8;
  const double right = entries.empty() ? 16 : legend_size.width + 24;
  const Rect room = area.inset(28, top, right, kLabelSize + 18);
  const double side = std::min(room.width, room.height * 2 / std::numbers::sqrt3);
  MMX_CHECK(side > 20, "SimplexPlot: area ", area.width, "x", area.height, " is too small");
  const double h = side * std::numbers::sqrt3 / 2;
  const Point a{room.x + (room.width - side) / 2, room.y + (room.height + h) / 2};
  const Point b{a.x + side, a.y};
  const Point c{a.x + side / 2, a.y - h};

  canvas.fill_polygon({a, b, c}, Color{248, 248, 252});
  // Grid: lines of constant p_k at 0.2 steps, the simplex's own "axes".
  for (int k = 1; k < 5; ++k) {
    const double v = k / 5.0;
    for (int corner = 0; corner < 3; ++corner) {
      Distribution3 from{}, to{};
      from[static_cast<size_t>(corner)] = v, to[static_cast<size_t>(corner)] = v;
      from[static_cast<size_t>((corner + 1) % 3)] = 1 - v;
      to[static_cast<size_t>((corner + 2) % 3)] = 1 - v;
      canvas.line(simplex_point(from, a, b, c), simplex_point(to, a, b, c), colors::grid, 1.0);
    }
  }
  canvas.fill_circle(simplex_point({1 / 3.0, 1 / 3.0, 1 / 3.0}, a, b, c), 3, colors::muted);
  canvas.polyline({a, b, c, a}, colors::axis, 1.5);
  const TextStyle corner{.size = kLabelSize, .halign = HAlign::Center, .valign = VAlign::Top};
  canvas.text({a.x, a.y + 6}, corner_labels[0], corner);
  canvas.text({b.x, b.y + 6}, corner_labels[1], corner);
  TextStyle top_label = corner;
  top_label.valign = VAlign::Bottom;
  canvas.text({c.x, c.y - 4}, corner_labels[2], top_label);

  for (const SimplexPath& path : paths) {
    std::vector<Point> pixels;
    for (const Distribution3& p : path.points) pixels.push_back(simplex_point(p, a, b, c));
    if (path.line_width > 0) canvas.polyline(pixels, path.color, path.line_width);
    for (const Point& px : pixels) draw_marker(canvas, px, path.marker, 3.5, path.color);
  }
  if (!title.empty())
    canvas.text({area.x + area.width / 2, area.y + 6}, title,
                {.size = kTitleSize, .halign = HAlign::Center, .valign = VAlign::Top});
  if (!entries.empty())
    draw_legend(canvas, entries, {area.right() - legend_size.width - 10, area.y + top});
}

void SimplexPlot::save_png(const std::string& path, int width, int height) const {
  Canvas canvas(width, height);
  draw(canvas, canvas.bounds());
  canvas.save_png(path);
}

}  // namespace mmx::plot
