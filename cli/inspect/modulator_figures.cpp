#include "cli/inspect/modulator_figures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "cli/inspect/explore_figures.hpp"
#include "cli/inspect/explore_report.hpp"
#include "engine/error.hpp"
#include "plot/line_chart.hpp"

namespace mmx::cli {

namespace {

using plot::Canvas;
using plot::LineChart;
using plot::ReferenceLine;

constexpr int kBins = 60;
constexpr double kPanelWidth = 440;
// Wide enough for the header's lines over a single panel.
constexpr double kMinWidth = 960;

int figure_width(int columns) {
  return static_cast<int>(std::max(kPanelWidth * columns, kMinWidth));
}

void create_parent(const std::filesystem::path& path, const char* command) {
  const std::filesystem::path dir = path.parent_path();
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  MMX_CHECK(!ec && std::filesystem::is_directory(dir), command, ": cannot create the folder '",
            dir.string(), "' for the figure", ec ? ": " + ec.message() : std::string());
}

// The x range a site's panels share: the middle 99.8% of its scores (a few outliers would
// squeeze the histogram into a spike), widened to show every breakpoint in use.
std::pair<double, double> x_range(const ModulatorSite& s) {
  std::vector<float> sorted = s.scores;
  double lo = -1, hi = 1;
  if (!sorted.empty()) {
    std::sort(sorted.begin(), sorted.end());
    const auto at = [&](double q) {
      return static_cast<double>(
          sorted[static_cast<size_t>(q * static_cast<double>(sorted.size() - 1))]);
    };
    lo = at(0.001);
    hi = at(0.999);
  }
  for (int k = 0; k < 2 * s.order; ++k) {
    lo = std::min<double>(lo, s.r[static_cast<size_t>(k)]);
    hi = std::max<double>(hi, s.r[static_cast<size_t>(k)]);
  }
  const double margin = 0.05 * std::max(hi - lo, 1e-3);
  return {lo - margin, hi + margin};
}

// Breakpoints learned from a start near 0 often sit within a few hundredths of each other: their
// labels would print over one another, so they are written only when the lines stand apart (the
// panel's caption gives the values either way).
void mark_breakpoints(LineChart& chart, const ModulatorSite& s, std::pair<double, double> range,
                      bool labelled) {
  const std::vector<std::pair<double, std::string>> lines = breakpoint_labels(s.r, s.order);
  std::vector<double> at;
  for (const auto& line : lines) at.push_back(line.first);
  std::sort(at.begin(), at.end());
  for (size_t i = 1; i < at.size(); ++i)
    labelled = labelled && at[i] - at[i - 1] > 0.12 * (range.second - range.first);
  for (const auto& [r, label] : lines)
    chart.references.push_back({.kind = ReferenceLine::Kind::Vertical,
                                .value = r,
                                .label = labelled ? label : std::string()});
}

std::string values(const char* name, const std::array<float, 4>& v, int order) {
  std::string out = cat(name, " = (");
  char buffer[32];
  for (int k = 0; k < 2 * order; ++k) {
    std::snprintf(buffer, sizeof buffer, "%s%+.3f", k ? ", " : "",
                  static_cast<double>(v[static_cast<size_t>(k)]));
    out += buffer;
  }
  return out + ")";
}

void draw_site(Canvas& canvas, const plot::Rect& cell, const ModulatorSite& s) {
  const auto [lo, hi] = x_range(s);
  std::vector<double> grid;
  for (int i = 0; i <= 300; ++i) grid.push_back(lo + (hi - lo) * i / 300.0);
  const std::vector<float> grid_f(grid.begin(), grid.end());
  const Modulation curve = modulate(grid_f, s.t, s.r, s.order);
  std::vector<double> sigma(curve.sigma.begin(), curve.sigma.end()), shift;
  for (size_t i = 0; i < grid.size(); ++i) shift.push_back(sigma[i] - grid[i]);

  // The title and the learned values above the three charts.
  const double centre = cell.x + cell.width / 2;
  canvas.text({centre, cell.y + 6}, site_title(s),
              {.size = 17, .halign = plot::HAlign::Center, .valign = plot::VAlign::Top});
  canvas.text({centre, cell.y + 30}, cat(values("t", s.t, s.order), "   order ", s.order),
              {.size = 13,
               .color = plot::colors::axis,
               .halign = plot::HAlign::Center,
               .valign = plot::VAlign::Top});
  canvas.text({centre, cell.y + 48}, values("r", s.r, s.order),
              {.size = 13,
               .color = plot::colors::axis,
               .halign = plot::HAlign::Center,
               .valign = plot::VAlign::Top});
  const plot::Rect charts = cell.inset(0, 66, 0, 0);

  LineChart top;
  top.x_axis = {.label = "", .range = std::pair{lo, hi}};
  top.y_axis.label = "σ(x)";
  top.add_series("identity (SoftMax)", grid, grid).color = plot::colors::muted;
  top.series.back().dash = {6, 4};
  top.add_series("learned σ(x)", grid, sigma).color = plot::palette(3);
  top.legend = plot::LegendPlace::TopLeft;
  mark_breakpoints(top, s, {lo, hi}, true);

  LineChart middle;
  middle.x_axis = {.label = "", .range = std::pair{lo, hi}};
  middle.y_axis.label = "σ(x) − x";
  middle.add_series("", grid, shift).color = plot::palette(3);
  middle.references.push_back({.kind = ReferenceLine::Kind::Horizontal, .value = 0, .label = ""});
  middle.legend = plot::LegendPlace::Hidden;
  mark_breakpoints(middle, s, {lo, hi}, false);

  // The histogram as a step outline: each bin's share of the site's scores.
  std::vector<double> counts(kBins, 0.0);
  for (float x : s.scores) {
    const double u = (x - lo) / (hi - lo);
    if (u >= 0 && u < 1) counts[static_cast<size_t>(u * kBins)] += 1;
  }
  std::vector<double> hx{lo}, hy{0};
  for (int b = 0; b < kBins; ++b) {
    const double share = s.scores.empty() ? 0 : counts[static_cast<size_t>(b)] / s.scores.size();
    hx.insert(hx.end(), {lo + (hi - lo) * b / kBins, lo + (hi - lo) * (b + 1) / kBins});
    hy.insert(hy.end(), {share, share});
  }
  hx.push_back(hi);
  hy.push_back(0);
  LineChart bottom;
  bottom.x_axis = {.label = "raw score x = q·k/√d_h", .range = std::pair{lo, hi}};
  bottom.y_axis.label = "share of scores";
  bottom.add_series("", hx, hy).color = plot::palette(0);
  bottom.legend = plot::LegendPlace::Hidden;
  mark_breakpoints(bottom, s, {lo, hi}, false);

  const double h = charts.height;
  top.draw(canvas, {charts.x, charts.y, charts.width, h * 0.42});
  middle.draw(canvas, {charts.x, charts.y + h * 0.42, charts.width, h * 0.26});
  bottom.draw(canvas, {charts.x, charts.y + h * 0.68, charts.width, h * 0.32});
}

int columns_for(size_t panels) {
  return static_cast<int>(std::min<size_t>(panels, 4));
}

}  // namespace

void write_modulator_figure(const ModulatorReport& report, const std::filesystem::path& path) {
  create_parent(path, "modulators");
  const int cols = columns_for(report.sites.size());
  const int rows = static_cast<int>((report.sites.size() + static_cast<size_t>(cols) - 1) /
                                    static_cast<size_t>(cols));
  constexpr double kHeader = 80, kCellHeight = 760;
  Canvas canvas(figure_width(cols), static_cast<int>(kHeader + kCellHeight * rows));
  canvas.text({20, 14},
              cat("What MultiMax learned: the ", report.task, " model at step ", report.step),
              {.size = 20, .valign = plot::VAlign::Top});
  canvas.text({20, 46},
              cat("histograms: the raw scores each site saw on ", report.batch,
                  "; dashed verticals: breakpoints r"),
              {.size = 14, .color = plot::colors::axis, .valign = plot::VAlign::Top});
  const plot::Rect body = canvas.bounds().inset(0, kHeader, 0, 0);
  for (size_t i = 0; i < report.sites.size(); ++i)
    draw_site(canvas, plot::grid_cell(body, rows, cols, static_cast<int>(i)), report.sites[i]);
  canvas.save_png(path.string());
}

void write_trajectory_figure(const std::vector<ModulatorSnapshot>& snapshots,
                             const std::string& title, const std::filesystem::path& path) {
  MMX_CHECK(!snapshots.empty() && !snapshots.front().sites.empty(),
            "write_trajectory_figure: no (t, r) to draw");
  create_parent(path, "modulators");
  struct Panel {
    size_t site, head;
  };
  std::vector<Panel> panels;
  const std::vector<nn::MultiMaxSiteValues>& first = snapshots.front().sites;
  for (size_t s = 0; s < first.size(); ++s)
    for (size_t h = 0; h < first[s].t.size(); ++h) panels.push_back({s, h});
  const int cols = columns_for(panels.size());
  const int rows =
      static_cast<int>((panels.size() + static_cast<size_t>(cols) - 1) / static_cast<size_t>(cols));
  constexpr double kHeader = 80, kCellHeight = 380;
  Canvas canvas(figure_width(cols), static_cast<int>(kHeader + kCellHeight * rows));
  canvas.text({20, 14}, title, {.size = 20, .valign = plot::VAlign::Top});
  std::vector<plot::LegendEntry> legend;
  for (int k = 0; k < 2 * first.front().order; ++k) {
    legend.push_back({cat("t", k), plot::palette(k), true, {}, plot::Marker::None});
    legend.push_back({cat("r", k), plot::palette(k), true, {6, 4}, plot::Marker::None});
  }
  const char* key = "temperatures t solid, breakpoints r dashed, by index:";
  canvas.text({20, 44}, key,
              {.size = 14, .color = plot::colors::axis, .valign = plot::VAlign::Top});
  double x = 20 + canvas.text_width(key, 14) + 12;
  for (const plot::LegendEntry& entry : legend) {  // one row of entries
    plot::draw_legend(canvas, {entry}, {x, 36});
    x += plot::legend_box({entry}, {0, 0}).width + 6;
  }
  const plot::Rect body = canvas.bounds().inset(0, kHeader, 0, 0);
  for (size_t i = 0; i < panels.size(); ++i) {
    const nn::MultiMaxSiteValues& site = first[panels[i].site];
    LineChart chart;
    chart.title = site.per_head ? cat(site.site, ", head ", panels[i].head) : site.site;
    chart.x_axis.label = "training step";
    chart.y_axis.label = "value";
    for (int k = 0; k < 2 * site.order; ++k)
      for (bool is_t : {true, false}) {
        std::vector<double> steps, values;
        for (const ModulatorSnapshot& snap : snapshots) {
          const nn::MultiMaxSiteValues& v = snap.sites[panels[i].site];
          const auto& rows_of = is_t ? v.t : v.r;
          steps.push_back(static_cast<double>(snap.step));
          values.push_back(rows_of[panels[i].head][static_cast<size_t>(k)]);
        }
        plot::Series& line = chart.add_series(cat(is_t ? "t" : "r", k), steps, values);
        line.color = plot::palette(k);
        if (!is_t) line.dash = {6, 4};
      }
    chart.references.push_back({.kind = ReferenceLine::Kind::Horizontal, .value = 0, .label = ""});
    chart.legend = plot::LegendPlace::Hidden;  // one legend for every panel, at the top
    chart.draw(canvas, plot::grid_cell(body, rows, cols, static_cast<int>(i)));
  }
  canvas.save_png(path.string());
}

}  // namespace mmx::cli
