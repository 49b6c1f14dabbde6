// Heatmap: a matrix drawn as coloured cells (viridis), with row/column labels, a colorbar and
// a title; e.g. an attention matrix with the tokens as labels.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plot/canvas.hpp"

namespace mmx::plot {

struct Heatmap {
  std::string title;
  std::string x_label, y_label;  // axis captions, e.g. "key" and "query"
  int rows = 0, cols = 0;
  std::vector<double> values;  // rows * cols, row-major; row 0 is drawn at the top
  std::vector<std::string> row_labels, col_labels;  // empty, or one per row / column
  std::optional<std::pair<double, double>> range;   // colour scale; default: min..max
  std::string colorbar_label;
  bool show_values = false;  // write each value in its cell (small matrices)

  void draw(Canvas& canvas, const Rect& area) const;
  void save_png(const std::string& path, int width = 720, int height = 640) const;
};

}  // namespace mmx::plot
