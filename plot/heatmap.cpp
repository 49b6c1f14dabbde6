#include "plot/heatmap.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/error.hpp"
#include "plot/axes.hpp"
#include "plot/font.hpp"

namespace mmx::plot {

namespace {

double widest(const std::vector<std::string>& labels, double size) {
  double w = 0;
  for (const std::string& s : labels) w = std::max(w, text_width(s, size));
  return w;
}

}  // namespace

void Heatmap::draw(Canvas& canvas, const Rect& area) const {
  MMX_CHECK(rows > 0 && cols > 0 &&
                values.size() == static_cast<size_t>(rows) * static_cast<size_t>(cols),
            "Heatmap: ", rows, "x", cols, " matrix with ", values.size(), " values");
  MMX_CHECK(row_labels.empty() || row_labels.size() == static_cast<size_t>(rows),
            "Heatmap: ", row_labels.size(), " row labels for ", rows, " rows");
  MMX_CHECK(col_labels.empty() || col_labels.size() == static_cast<size_t>(cols),
            "Heatmap: ", col_labels.size(), " column labels for ", cols, " columns");
  double lo = range ? range->first : INFINITY, hi = range ? range->second : -INFINITY;
  if (!range)
    for (double v : values)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(lo < hi)) {  // constant or all non-finite: a range that still draws
    lo = std::isfinite(lo) ? lo - 0.5 : 0.0;
    hi = lo + 1.0;
  }

  // Layout: labels left and bottom, colorbar on the right. Column labels turn vertical when
  // they would overlap.
  const double label_size = kTickSize;
  const double top = title.empty() ? 12 : kTitleSize + 18;
  const double row_label_w = widest(row_labels, label_size);
  const double col_label_w = widest(col_labels, label_size);
  const double colorbar_w = 16 + 8 + 50 + (colorbar_label.empty() ? 0 : kLabelSize + 8);
  const double left =
      10 + (row_label_w > 0 ? row_label_w + 8 : 0) + (y_label.empty() ? 0 : kLabelSize + 8);
  const double grid_w_guess = area.width - left - colorbar_w - 16;
  const bool vertical_cols = !col_labels.empty() && col_label_w + 4 > grid_w_guess / cols;
  const double col_label_h = col_labels.empty() ? 0
                             : vertical_cols    ? col_label_w + 8
                                                : label_size + 10;
  const double bottom = 10 + col_label_h + (x_label.empty() ? 0 : kLabelSize + 8);
  const Rect grid = area.inset(left, top, colorbar_w + 16, bottom);
  MMX_CHECK(grid.width > 4 && grid.height > 4, "Heatmap: area ", area.width, "x", area.height,
            " is too small for the labels");
  const double cw = grid.width / cols, ch = grid.height / rows;

  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const double v =
          values[static_cast<size_t>(r) * static_cast<size_t>(cols) + static_cast<size_t>(c)];
      const Color color = std::isfinite(v) ? viridis((v - lo) / (hi - lo)) : Color{200, 200, 200};
      const Rect cell{grid.x + c * cw, grid.y + r * ch, cw, ch};
      canvas.fill_rect(cell, color);
      if (show_values) {
        char text[32];
        std::snprintf(text, sizeof text, "%.2f", v);
        // Dark text on the bright end of viridis, white on the dark end.
        const bool bright = std::isfinite(v) && (v - lo) / (hi - lo) > 0.6;
        canvas.text({cell.x + cw / 2, cell.y + ch / 2}, text,
                    {.size = std::min(12.0, ch * 0.45),
                     .color = bright ? colors::black : colors::white,
                     .halign = HAlign::Center,
                     .valign = VAlign::Middle});
      }
    }
  canvas.stroke_rect(grid, colors::axis, 1.0);

  const TextStyle label_style{.size = label_size, .color = colors::axis};
  for (size_t r = 0; r < row_labels.size(); ++r) {
    TextStyle s = label_style;
    s.halign = HAlign::Right;
    s.valign = VAlign::Middle;
    canvas.text({grid.x - 6, grid.y + (static_cast<double>(r) + 0.5) * ch}, row_labels[r], s);
  }
  for (size_t c = 0; c < col_labels.size(); ++c) {
    TextStyle s = label_style;
    const double cx = grid.x + (static_cast<double>(c) + 0.5) * cw;
    if (vertical_cols) {
      s.halign = HAlign::Right;
      s.valign = VAlign::Middle;
      s.direction = TextDirection::Up;
    } else {
      s.halign = HAlign::Center;
      s.valign = VAlign::Top;
    }
    canvas.text({cx, grid.bottom() + 6}, col_labels[c], s);
  }
  if (!x_label.empty())
    canvas.text({grid.x + grid.width / 2, area.bottom() - 6}, x_label,
                {.size = kLabelSize, .halign = HAlign::Center, .valign = VAlign::Bottom});
  if (!y_label.empty())
    canvas.text({area.x + 4, grid.y + grid.height / 2}, y_label,
                {.size = kLabelSize,
                 .halign = HAlign::Center,
                 .valign = VAlign::Top,
                 .direction = TextDirection::Up});
  if (!title.empty())
    canvas.text({grid.x + grid.width / 2, area.y + 6}, title,
                {.size = kTitleSize, .halign = HAlign::Center, .valign = VAlign::Top});

  // Colorbar: one row of pixels per colour step, ticks on its right.
  const Rect bar{grid.right() + 16, grid.y, 16, grid.height};
  for (int y = 0; y < static_cast<int>(std::ceil(bar.height)); ++y)
    canvas.fill_rect({bar.x, bar.y + y, bar.width, 1}, viridis(1.0 - (y + 0.5) / bar.height));
  canvas.stroke_rect(bar, colors::axis, 1.0);
  const std::vector<double> ticks = nice_ticks(lo, hi, 5);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : hi - lo;
  for (double t : ticks) {
    const double y = bar.bottom() - (t - lo) / (hi - lo) * bar.height;
    canvas.line({bar.right(), y}, {bar.right() + 4, y}, colors::axis, 1.0);
    canvas.text({bar.right() + 7, y}, format_tick(t, step),
                {.size = kTickSize, .color = colors::axis, .valign = VAlign::Middle});
  }
  if (!colorbar_label.empty())
    canvas.text({area.right() - 6 - kLabelSize, bar.y + bar.height / 2}, colorbar_label,
                {.size = kLabelSize,
                 .halign = HAlign::Center,
                 .valign = VAlign::Top,
                 .direction = TextDirection::Up});
}

void Heatmap::save_png(const std::string& path, int width, int height) const {
  Canvas canvas(width, height);
  draw(canvas, canvas.bounds());
  canvas.save_png(path);
}

}  // namespace mmx::plot
