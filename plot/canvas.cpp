#include "plot/canvas.hpp"

#include <algorithm>
#include <cmath>

#include "engine/error.hpp"
#include "plot/font.hpp"

namespace mmx::plot {

Rect Rect::inset(double left, double top, double right_margin, double bottom_margin) const {
  return {x + left, y + top, std::max(0.0, width - left - right_margin),
          std::max(0.0, height - top - bottom_margin)};
}

Rect grid_cell(const Rect& area, int rows, int cols, int index) {
  MMX_CHECK(rows > 0 && cols > 0 && index >= 0 && index < rows * cols, "grid_cell: cell ", index,
            " of a ", rows, "x", cols, " grid");
  const double w = area.width / cols, h = area.height / rows;
  return {area.x + (index % cols) * w, area.y + (index / cols) * h, w, h};
}

Canvas::Canvas(int width, int height, Color background) {
  MMX_CHECK(width > 0 && height > 0 && width <= 16384 && height <= 16384, "Canvas: size ", width,
            "x", height, " must be in 1..16384 on each side");
  image_.width = width;
  image_.height = height;
  image_.pixels.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * 3);
  for (size_t i = 0; i < image_.pixels.size(); i += 3) {
    image_.pixels[i] = background.r;
    image_.pixels[i + 1] = background.g;
    image_.pixels[i + 2] = background.b;
  }
}

bool Canvas::visible(int x, int y) const {
  if (x < 0 || y < 0 || x >= width() || y >= height()) return false;
  if (!clip_) return true;
  const double cx = x + 0.5, cy = y + 0.5;
  return cx >= clip_->x && cx <= clip_->right() && cy >= clip_->y && cy <= clip_->bottom();
}

void Canvas::blend(int x, int y, Color color, double alpha) {
  if (alpha <= 0 || !visible(x, y)) return;
  alpha = std::min(alpha, 1.0);
  uint8_t* p = image_.pixels.data() +
               (static_cast<size_t>(y) * static_cast<size_t>(width()) + static_cast<size_t>(x)) * 3;
  const Color mixed = mix({p[0], p[1], p[2]}, color, alpha);
  p[0] = mixed.r;
  p[1] = mixed.g;
  p[2] = mixed.b;
}

void Canvas::fill_rect(const Rect& rect, Color color) {
  const int x0 = static_cast<int>(std::floor(rect.x)),
            x1 = static_cast<int>(std::ceil(rect.right()));
  const int y0 = static_cast<int>(std::floor(rect.y)),
            y1 = static_cast<int>(std::ceil(rect.bottom()));
  for (int y = std::max(0, y0); y < std::min(height(), y1); ++y) {
    // Partial coverage on the edges keeps fractional rects (heatmap cells) seamless.
    const double cover_y = std::min<double>(y + 1, rect.bottom()) - std::max<double>(y, rect.y);
    for (int x = std::max(0, x0); x < std::min(width(), x1); ++x) {
      const double cover_x = std::min<double>(x + 1, rect.right()) - std::max<double>(x, rect.x);
      blend(x, y, color, cover_x * cover_y);
    }
  }
}

void Canvas::stroke_rect(const Rect& rect, Color color, double line_width) {
  polyline({{rect.x, rect.y},
            {rect.right(), rect.y},
            {rect.right(), rect.bottom()},
            {rect.x, rect.bottom()},
            {rect.x, rect.y}},
           color, line_width);
}

void Canvas::line(Point a, Point b, Color color, double line_width, Dash dash) {
  polyline({a, b}, color, line_width, dash);
}

namespace {

double distance_to_segment(Point p, Point a, Point b) {
  const double dx = b.x - a.x, dy = b.y - a.y;
  const double len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  return std::hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

// Cuts a polyline into the "on" pieces of a dash pattern, continuing the pattern across joints.
std::vector<std::pair<Point, Point>> dashed_segments(const std::vector<Point>& points, Dash dash) {
  std::vector<std::pair<Point, Point>> out;
  bool on = true;
  double left = dash.on;  // length remaining in the current on/off phase
  for (size_t i = 1; i < points.size(); ++i) {
    Point a = points[i - 1];
    const Point b = points[i];
    double remaining = std::hypot(b.x - a.x, b.y - a.y);
    while (remaining > 0) {
      const double step = std::min(left, remaining);
      const double t = step / remaining;
      const Point next{a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t};
      if (on) out.emplace_back(a, next);
      a = next;
      remaining -= step;
      left -= step;
      if (left <= 1e-9) {
        on = !on;
        left = on ? dash.on : dash.off;
      }
    }
  }
  return out;
}

}  // namespace

void Canvas::polyline(const std::vector<Point>& points, Color color, double line_width, Dash dash) {
  if (points.size() < 2) return;
  std::vector<std::pair<Point, Point>> segments;
  if (dash.solid()) {
    for (size_t i = 1; i < points.size(); ++i) segments.emplace_back(points[i - 1], points[i]);
  } else {
    segments = dashed_segments(points, dash);
  }
  const double half = line_width / 2;
  double min_x = width(), min_y = height(), max_x = 0, max_y = 0;
  for (const auto& [a, b] : segments) {
    min_x = std::min({min_x, a.x, b.x});
    min_y = std::min({min_y, a.y, b.y});
    max_x = std::max({max_x, a.x, b.x});
    max_y = std::max({max_y, a.y, b.y});
  }
  const int x0 = std::max(0, static_cast<int>(std::floor(min_x - half - 1)));
  const int y0 = std::max(0, static_cast<int>(std::floor(min_y - half - 1)));
  const int x1 = std::min(width() - 1, static_cast<int>(std::ceil(max_x + half + 1)));
  const int y1 = std::min(height() - 1, static_cast<int>(std::ceil(max_y + half + 1)));
  if (x1 < x0 || y1 < y0) return;
  // Coverage is max over segments, then blended once: joints and overlaps don't darken.
  const int bw = x1 - x0 + 1;
  std::vector<float> coverage(static_cast<size_t>(bw) * static_cast<size_t>(y1 - y0 + 1), 0.0f);
  for (const auto& [a, b] : segments) {
    const int sx0 = std::max(x0, static_cast<int>(std::floor(std::min(a.x, b.x) - half - 1)));
    const int sx1 = std::min(x1, static_cast<int>(std::ceil(std::max(a.x, b.x) + half + 1)));
    const int sy0 = std::max(y0, static_cast<int>(std::floor(std::min(a.y, b.y) - half - 1)));
    const int sy1 = std::min(y1, static_cast<int>(std::ceil(std::max(a.y, b.y) + half + 1)));
    for (int y = sy0; y <= sy1; ++y)
      for (int x = sx0; x <= sx1; ++x) {
        const double d = distance_to_segment({x + 0.5, y + 0.5}, a, b);
        // A 1-pixel ramp at the edge of the stroke: anti-aliasing without supersampling.
        const auto c = static_cast<float>(std::clamp(half + 0.5 - d, 0.0, 1.0));
        float& cell = coverage[static_cast<size_t>(y - y0) * static_cast<size_t>(bw) +
                               static_cast<size_t>(x - x0)];
        cell = std::max(cell, c);
      }
  }
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x)
      blend(x, y, color,
            coverage[static_cast<size_t>(y - y0) * static_cast<size_t>(bw) +
                     static_cast<size_t>(x - x0)]);
}

void Canvas::fill_circle(Point center, double radius, Color color) {
  const int x0 = static_cast<int>(std::floor(center.x - radius - 1));
  const int x1 = static_cast<int>(std::ceil(center.x + radius + 1));
  const int y0 = static_cast<int>(std::floor(center.y - radius - 1));
  const int y1 = static_cast<int>(std::ceil(center.y + radius + 1));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const double d = std::hypot(x + 0.5 - center.x, y + 0.5 - center.y);
      blend(x, y, color, std::clamp(radius + 0.5 - d, 0.0, 1.0));
    }
}

void Canvas::stroke_circle(Point center, double radius, Color color, double line_width) {
  const double reach = radius + line_width / 2 + 1;
  const int x0 = static_cast<int>(std::floor(center.x - reach)),
            x1 = static_cast<int>(std::ceil(center.x + reach));
  const int y0 = static_cast<int>(std::floor(center.y - reach)),
            y1 = static_cast<int>(std::ceil(center.y + reach));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const double d = std::abs(std::hypot(x + 0.5 - center.x, y + 0.5 - center.y) - radius);
      blend(x, y, color, std::clamp(line_width / 2 + 0.5 - d, 0.0, 1.0));
    }
}

namespace {
bool inside_polygon(const std::vector<Point>& v, double px, double py) {
  bool inside = false;  // even-odd rule
  for (size_t i = 0, j = v.size() - 1; i < v.size(); j = i++) {
    if ((v[i].y > py) != (v[j].y > py) &&
        px < (v[j].x - v[i].x) * (py - v[i].y) / (v[j].y - v[i].y) + v[i].x)
      inside = !inside;
  }
  return inside;
}
}  // namespace

void Canvas::fill_polygon(const std::vector<Point>& vertices, Color color) {
  if (vertices.size() < 3) return;
  double min_x = vertices[0].x, max_x = min_x, min_y = vertices[0].y, max_y = min_y;
  for (const Point& p : vertices) {
    min_x = std::min(min_x, p.x), max_x = std::max(max_x, p.x);
    min_y = std::min(min_y, p.y), max_y = std::max(max_y, p.y);
  }
  constexpr int kSamples = 4;  // 4x4 supersampling per pixel: smooth edges on small markers
  for (int y = std::max(0, static_cast<int>(std::floor(min_y)));
       y <= std::min(height() - 1, static_cast<int>(std::ceil(max_y))); ++y)
    for (int x = std::max(0, static_cast<int>(std::floor(min_x)));
         x <= std::min(width() - 1, static_cast<int>(std::ceil(max_x))); ++x) {
      int hits = 0;
      for (int sy = 0; sy < kSamples; ++sy)
        for (int sx = 0; sx < kSamples; ++sx)
          hits += inside_polygon(vertices, x + (sx + 0.5) / kSamples, y + (sy + 0.5) / kSamples);
      blend(x, y, color, static_cast<double>(hits) / (kSamples * kSamples));
    }
}

double Canvas::text_width(std::string_view text, double size) const {
  return plot::text_width(text, size);
}

void Canvas::text(Point anchor, std::string_view content, const TextStyle& style) {
  if (content.empty()) return;
  const TextMask mask = render_text(content, style.size);
  // Offsets of the anchor inside the unrotated mask.
  const double along = style.halign == HAlign::Left     ? 0.0
                       : style.halign == HAlign::Center ? mask.width / 2.0
                                                        : static_cast<double>(mask.width);
  const double across = style.valign == VAlign::Top      ? 0.0
                        : style.valign == VAlign::Middle ? mask.height / 2.0
                        : style.valign == VAlign::Bottom ? static_cast<double>(mask.height)
                                                         : static_cast<double>(mask.baseline);
  const bool up = style.direction == TextDirection::Up;
  // Top-left corner of the (possibly rotated) mask on the canvas. Rotating 90 degrees
  // counter-clockwise sends mask (u, v) to canvas (v, width - 1 - u).
  const int left = static_cast<int>(std::lround(up ? anchor.x - across : anchor.x - along));
  const int top =
      static_cast<int>(std::lround(up ? anchor.y - (mask.width - along) : anchor.y - across));
  for (int v = 0; v < mask.height; ++v)
    for (int u = 0; u < mask.width; ++u) {
      const uint8_t a = mask.alpha[static_cast<size_t>(v) * static_cast<size_t>(mask.width) +
                                   static_cast<size_t>(u)];
      if (a == 0) continue;
      const int x = up ? left + v : left + u;
      const int y = up ? top + (mask.width - 1 - u) : top + v;
      blend(x, y, style.color, a / 255.0);
    }
}

}  // namespace mmx::plot
