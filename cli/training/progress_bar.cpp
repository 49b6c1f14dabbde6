#include "cli/training/progress_bar.hpp"

#include <unistd.h>
#include <cmath>
#include <cstdio>

namespace mmx::cli {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(std::lround(seconds));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lds", s);
  return buf;
}

std::string format_rate(double value) {
  char buf[32];
  if (value >= 1e6)
    std::snprintf(buf, sizeof buf, "%.2fM", value / 1e6);
  else if (value >= 1e3)
    std::snprintf(buf, sizeof buf, "%.1fk", value / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0f", value);
  return buf;
}

ProgressBar::ProgressBar(std::string label, int64_t total_steps, int64_t first_step,
                         double units_per_step, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total_steps),
      first_(first_step),
      last_step_(first_step),
      units_per_step_(units_per_step),
      tty_(isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void ProgressBar::update(int64_t step, const std::string& figures) {
  last_step_ = step;
  figures_ = figures;
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100) && step != total_) return;
    last_draw_ = now;
    draw(step, false);
    return;
  }
  const int64_t decile = total_ > 0 ? step * 10 / total_ : 10;
  if (decile != last_reported_decile_) {
    last_reported_decile_ = decile;
    draw(step, true);
  }
}

void ProgressBar::message(const std::string& text) {
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s\n", text.c_str());
  if (tty_) draw(last_step_, false);
}

void ProgressBar::finish() {
  if (tty_) {
    draw(last_step_, false);
    std::fprintf(stderr, "\n");
  }
}

void ProgressBar::draw(int64_t step, bool final_line) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t done = step - first_;
  const double steps_per_s = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  const double eta = steps_per_s > 0 ? static_cast<double>(total_ - step) / steps_per_s : NAN;
  constexpr int kWidth = 24;
  const int filled = total_ > 0 ? static_cast<int>(kWidth * step / total_) : kWidth;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '-');
  std::fprintf(stderr, "%s%s [%s] %ld/%ld  %s | %s %s/s | ETA %s%s", tty_ ? "\r\033[K" : "",
               label_.c_str(), bar.c_str(), step, total_, figures_.c_str(),
               format_rate(steps_per_s * units_per_step_).c_str(), unit_.c_str(),
               format_duration(eta).c_str(), final_line ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace mmx::cli
