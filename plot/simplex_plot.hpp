// SimplexPlot: the 2-simplex (all 3-class distributions) as an equilateral triangle, with
// paths of distributions drawn inside it, as in Figure 1 of the MultiMax paper. A corner is a
// one-hot distribution, the centre is uniform, an edge is a distribution with one zero.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "plot/legend.hpp"

namespace mmx::plot {

using Distribution3 = std::array<double, 3>;

struct SimplexPath {
  std::string name;
  std::vector<Distribution3> points;
  Color color;
  Marker marker = Marker::None;  // drawn at every point
  double line_width = 2.0;       // 0: markers only
};

struct SimplexPlot {
  std::string title;
  std::array<std::string, 3> corner_labels{"p₁", "p₂", "p₃"};  // bottom-left, bottom-right, top
  std::vector<SimplexPath> paths;
  bool show_legend = true;

  // Adds a path with the next palette colour. Each point must be a distribution (entries >= 0
  // summing to 1 within 1e-3); it is checked when drawn.
  SimplexPath& add_path(std::string name, std::vector<Distribution3> points);

  void draw(Canvas& canvas, const Rect& area) const;
  void save_png(const std::string& path, int width = 640, int height = 600) const;
};

// Where distribution p sits in a triangle with corners a (p = e0), b (e1), c (e2).
Point simplex_point(const Distribution3& p, Point a, Point b, Point c);

}  // namespace mmx::plot
