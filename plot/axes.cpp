#include "plot/axes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <tuple>

#include "engine/error.hpp"
#include "plot/font.hpp"

namespace mmx::plot {

namespace {

// The "nice number" of Heckbert (Graphics Gems I): 1, 2, 5 or 10 times a power of ten.
double nice_step(double raw) {
  const double exponent = std::floor(std::log10(raw));
  const double fraction = raw / std::pow(10.0, exponent);
  const double nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  return nice * std::pow(10.0, exponent);
}

// Fits [lo, hi] to the finite (and, on a log axis, positive) values with a 5% margin.
std::pair<double, double> fit_range(const std::vector<double>& values, const AxisSpec& spec) {
  if (spec.range) {
    auto [lo, hi] = *spec.range;
    MMX_CHECK(lo < hi && (spec.scale == Scale::Linear || lo > 0), "Axes: axis '", spec.label,
              "' has range [", lo, ", ", hi, "]; need lo < hi (and lo > 0 on a log axis)");
    return {lo, hi};
  }
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values) {
    if (!std::isfinite(v) || (spec.scale == Scale::Log && v <= 0)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo > hi) return spec.scale == Scale::Log ? std::pair{0.1, 10.0} : std::pair{0.0, 1.0};
  if (spec.scale == Scale::Log) {
    const double llo = std::log10(lo), lhi = std::log10(hi);
    const double pad = std::max(0.05 * (lhi - llo), 0.1);
    return {std::pow(10.0, llo - pad), std::pow(10.0, lhi + pad)};
  }
  if (lo == hi) {  // one distinct value: centre it
    const double half = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    return {lo - half, hi + half};
  }
  const double pad = 0.05 * (hi - lo);
  return {lo - pad, hi + pad};
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  MMX_CHECK(lo < hi && std::isfinite(lo) && std::isfinite(hi) && target >= 2, "nice_ticks: range [",
            lo, ", ", hi, "] with ", target, " ticks");
  const double step = nice_step((hi - lo) / (target - 1));
  std::vector<double> out;
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1) {
    const double v = k * step;
    out.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);  // no "-0"
  }
  return out;
}

std::vector<double> log_ticks(double lo, double hi) {
  MMX_CHECK(lo > 0 && lo < hi, "log_ticks: range [", lo, ", ", hi,
            "] must be positive and increasing");
  std::vector<double> out;
  for (double e = std::floor(std::log10(lo)); e <= std::ceil(std::log10(hi)); e += 1) {
    const double v = std::pow(10.0, e);
    if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push_back(v);
  }
  return out;
}

std::string format_tick(double value, double step) {
  char buffer[32];
  const double magnitude = std::max(std::abs(value), std::abs(step));
  if (magnitude != 0 && (magnitude >= 1e5 || magnitude < 1e-3)) {
    std::snprintf(buffer, sizeof buffer, "%g", value);
  } else {
    const int decimals =
        step > 0 ? std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9))) : 0;
    std::snprintf(buffer, sizeof buffer, "%.*f", std::min(decimals, 6), value);
  }
  return buffer;
}

Axes::Axes(const Rect& area, std::string title, AxisSpec x, AxisSpec y,
           const std::vector<double>& xs, const std::vector<double>& ys)
    : area_(area), title_(std::move(title)), x_(std::move(x)), y_(std::move(y)) {
  std::tie(x_lo_, x_hi_) = fit_range(xs, x_);
  std::tie(y_lo_, y_hi_) = fit_range(ys, y_);
  // Room on the left for tick labels and the rotated y label, at the bottom for the x label.
  double widest_tick = 0;
  const std::vector<double> yt = ticks(y_lo_, y_hi_, y_.scale, 6);
  const double ystep = yt.size() > 1 ? yt[1] - yt[0] : 1;
  for (double v : yt)
    widest_tick = std::max(widest_tick, text_width(format_tick(v, ystep), kTickSize));
  const double left = 14 + widest_tick + (y_.label.empty() ? 0 : kLabelSize + 10);
  const double bottom = 28 + (x_.label.empty() ? 0 : kLabelSize + 10);
  const double top = title_.empty() ? 12 : kTitleSize + 18;
  plot_ = area_.inset(left, top, 16, bottom);
  MMX_CHECK(plot_.width > 10 && plot_.height > 10, "Axes: area ", area.width, "x", area.height,
            " is too small for a chart");
}

double Axes::map(double v, double lo, double hi, Scale scale) const {
  if (scale == Scale::Log)
    return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
  return (v - lo) / (hi - lo);
}

std::vector<double> Axes::ticks(double lo, double hi, Scale scale, int target) const {
  if (scale == Scale::Log) {
    std::vector<double> t = log_ticks(lo, hi);
    if (t.size() >= 2) return t;
  }
  return nice_ticks(lo, hi, target);
}

Point Axes::to_pixel(double x, double y) const {
  return {plot_.x + map(x, x_lo_, x_hi_, x_.scale) * plot_.width,
          plot_.bottom() - map(y, y_lo_, y_hi_, y_.scale) * plot_.height};
}

void Axes::draw_grid(Canvas& canvas) const {
  const int xtarget = std::clamp(static_cast<int>(plot_.width / 90), 3, 10);
  for (double v : ticks(x_lo_, x_hi_, x_.scale, xtarget)) {
    const double px = to_pixel(v, y_lo_).x;
    canvas.line({px, plot_.y}, {px, plot_.bottom()}, colors::grid, 1.0);
  }
  for (double v : ticks(y_lo_, y_hi_, y_.scale, 6)) {
    const double py = to_pixel(x_lo_, v).y;
    canvas.line({plot_.x, py}, {plot_.right(), py}, colors::grid, 1.0);
  }
}

void Axes::draw_frame(Canvas& canvas) const {
  canvas.stroke_rect(plot_, colors::axis, 1.0);
  const TextStyle tick_style{.size = kTickSize, .color = colors::axis};
  const int xtarget = std::clamp(static_cast<int>(plot_.width / 90), 3, 10);
  const std::vector<double> xt = ticks(x_lo_, x_hi_, x_.scale, xtarget);
  const double xstep = xt.size() > 1 ? xt[1] - xt[0] : 1;
  for (double v : xt) {
    const double px = to_pixel(v, y_lo_).x;
    canvas.line({px, plot_.bottom()}, {px, plot_.bottom() + 5}, colors::axis, 1.0);
    TextStyle s = tick_style;
    s.halign = HAlign::Center;
    s.valign = VAlign::Top;
    canvas.text({px, plot_.bottom() + 7}, format_tick(v, x_.scale == Scale::Log ? v : xstep), s);
  }
  const std::vector<double> yt = ticks(y_lo_, y_hi_, y_.scale, 6);
  const double ystep = yt.size() > 1 ? yt[1] - yt[0] : 1;
  for (double v : yt) {
    const double py = to_pixel(x_lo_, v).y;
    canvas.line({plot_.x - 5, py}, {plot_.x, py}, colors::axis, 1.0);
    TextStyle s = tick_style;
    s.halign = HAlign::Right;
    s.valign = VAlign::Middle;
    canvas.text({plot_.x - 8, py}, format_tick(v, y_.scale == Scale::Log ? v : ystep), s);
  }
  if (!x_.label.empty())
    canvas.text({plot_.x + plot_.width / 2, area_.bottom() - 6}, x_.label,
                {.size = kLabelSize, .halign = HAlign::Center, .valign = VAlign::Bottom});
  if (!y_.label.empty())
    canvas.text({area_.x + 4, plot_.y + plot_.height / 2}, y_.label,
                {.size = kLabelSize,
                 .halign = HAlign::Center,
                 .valign = VAlign::Top,
                 .direction = TextDirection::Up});
  if (!title_.empty())
    canvas.text({plot_.x + plot_.width / 2, area_.y + 6}, title_,
                {.size = kTitleSize, .halign = HAlign::Center, .valign = VAlign::Top});
}

}  // namespace mmx::plot
