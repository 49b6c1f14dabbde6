#include "cli/inspect/explore_figures.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "engine/error.hpp"
#include "plot/line_chart.hpp"
#include "plot/simplex_plot.hpp"

namespace mmx::cli {

namespace {

using plot::Canvas;
using plot::Color;
using plot::LineChart;
using plot::Marker;
using plot::ReferenceLine;

std::string fmt(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

std::vector<double> to_double(const std::vector<float>& v) {
  return {v.begin(), v.end()};
}

// (1) sigma(x) against the identity, and its slope against SoftMax's slope 1.
std::string write_modulator(const std::string& dir, const ExploreOptions& o) {
  double lo = *std::min_element(o.values.begin(), o.values.end());
  double hi = *std::max_element(o.values.begin(), o.values.end());
  for (float r : o.r) lo = std::min<double>(lo, r), hi = std::max<double>(hi, r);
  lo -= 2;
  hi += 2;
  std::vector<float> grid;
  for (int i = 0; i <= 400; ++i) grid.push_back(static_cast<float>(lo + (hi - lo) * i / 400.0));
  const Modulation curve = modulate(grid, o.t, o.r, o.order);
  const Modulation at_input = modulate(o.values, o.t, o.r, o.order);

  LineChart sigma_chart;
  sigma_chart.title = "MultiMax modulator σ(x)";
  sigma_chart.x_axis.label = "score x";
  sigma_chart.y_axis.label = "modulated score σ(x)";
  sigma_chart.add_series("identity (SoftMax)", to_double(grid), to_double(grid)).color =
      plot::colors::muted;
  sigma_chart.series.back().dash = {6, 4};
  sigma_chart.add_series("σ(x)", to_double(grid), to_double(curve.sigma)).color = plot::palette(3);
  sigma_chart
      .add_points("input scores", to_double(o.values), to_double(at_input.sigma), Marker::Circle)
      .color = plot::palette(0);
  for (const auto& [r, label] : breakpoint_labels(o.r, o.order))
    sigma_chart.references.push_back(
        {.kind = ReferenceLine::Kind::Vertical, .value = r, .label = label});
  sigma_chart.legend = plot::LegendPlace::BottomRight;

  LineChart slope_chart;
  slope_chart.title = "slope dσ/dx (1 = SoftMax; <1 flatter, >1 steeper)";
  slope_chart.x_axis.label = "score x";
  slope_chart.y_axis.label = "dσ/dx";
  slope_chart.add_series("dσ/dx", to_double(grid), to_double(curve.slope)).color = plot::palette(3);
  slope_chart
      .add_points("input scores", to_double(o.values), to_double(at_input.slope), Marker::Circle)
      .color = plot::palette(0);
  slope_chart.references.push_back(
      {.kind = ReferenceLine::Kind::Horizontal, .value = 1.0, .label = "SoftMax"});
  for (const auto& [r, label] : breakpoint_labels(o.r, o.order))
    slope_chart.references.push_back(
        {.kind = ReferenceLine::Kind::Vertical, .value = r, .label = ""});

  Canvas canvas(1400, 560);
  sigma_chart.draw(canvas, plot::grid_cell(canvas.bounds(), 1, 2, 0));
  slope_chart.draw(canvas, plot::grid_cell(canvas.bounds(), 1, 2, 1));
  const std::string path = dir + "/modulator.png";
  canvas.save_png(path);
  return path;
}

// An input path in R^3, x(u) for u in [0, 12]: each mapping turns it into a path on the simplex.
struct InputPath {
  std::string name;
  std::array<float, 3> (*at)(float u);
};

const std::vector<InputPath>& input_paths() {
  static const std::vector<InputPath> paths = {
      {"(u, 0, −u)",
       [](float u) {
         return std::array<float, 3>{u, 0.0f, -u};
       }},
      {"(u, u−2, −1)",
       [](float u) {
         return std::array<float, 3>{u, u - 2.0f, -1.0f};
       }},
      {"(u, u/2, u/4)",
       [](float u) {
         return std::array<float, 3>{u, u / 2.0f, u / 4.0f};
       }},
  };
  return paths;
}

// (2) Figure 1 of the paper: one simplex per mapping, the same input paths in each.
std::string write_simplex(const std::string& dir, const ExploreOptions& o) {
  struct Panel {
    std::string title;
    nn::AttentionKind kind;
    float temperature;
  };
  std::vector<Panel> panels;  // every normalizer of the table, SoftMax at T = 1 and 2
  for (const nn::Normalizer& n : nn::normalizers()) {
    if (n.has_temperature)
      for (float T : {1.0f, 2.0f}) panels.push_back({n.title + fmt(" (T = %g)", T), n.kind, T});
    else
      panels.push_back({n.title, n.kind, 1.0f});
  }
  const int rows = static_cast<int>(panels.size() + 2) / 3;
  Canvas canvas(1500, 90 + 495 * rows);
  const plot::Rect body = canvas.bounds().inset(0, 90, 0, 0);
  canvas.text({20, 14}, "Each mapping's output along three input paths x(u), u = 0 … 12",
              {.size = 19, .valign = plot::VAlign::Top});
  canvas.text({20, 44}, "dots every 2 units of u; a corner is one-hot, an edge has one zero entry",
              {.size = 14, .color = plot::colors::axis, .valign = plot::VAlign::Top});
  std::vector<plot::LegendEntry> legend;
  for (size_t i = 0; i < panels.size(); ++i) {
    plot::SimplexPlot simplex;
    simplex.title = panels[i].title;
    simplex.corner_labels = {"p₁", "p₂", "p₃"};
    simplex.show_legend = false;  // one legend for all panels, at the top
    for (const InputPath& path : input_paths()) {
      std::vector<plot::Distribution3> points;
      for (int step = 0; step <= 48; ++step) {
        const std::array<float, 3> x = path.at(static_cast<float>(step) * 0.25f);
        const std::vector<float> p =
            apply_normalizer(panels[i].kind, {x.begin(), x.end()}, o, panels[i].temperature);
        points.push_back({p[0], p[1], p[2]});
      }
      simplex.add_path(path.name, points);
    }
    if (legend.empty())
      for (const plot::SimplexPath& path : simplex.paths)
        legend.push_back({path.name, path.color, true, {}, Marker::Circle});
    // Dots every 2 units of u: where the path slows down, the dots bunch up.
    const size_t line_count = simplex.paths.size();
    for (size_t k = 0; k < line_count; ++k) {
      plot::SimplexPath dots = simplex.paths[k];
      dots.name.clear();
      std::vector<plot::Distribution3> every;
      for (size_t s = 0; s < dots.points.size(); s += 8) every.push_back(dots.points[s]);
      dots.points = every;
      dots.marker = Marker::Circle;
      dots.line_width = 0;
      simplex.paths.push_back(dots);
    }
    simplex.draw(canvas, plot::grid_cell(body, rows, 3, static_cast<int>(i)));
  }
  plot::draw_legend(canvas, legend,
                    {canvas.width() - plot::legend_box(legend, {0, 0}).width - 20, 8});
  const std::string path = dir + "/simplex.png";
  canvas.save_png(path);
  return path;
}

// (3) Sparsity against multi-modality for inputs (10, v, -1): SoftMax can only trade one for
// the other through its temperature; the other mappings are single points.
std::string write_tradeoff(const std::string& dir, const ExploreOptions& o) {
  LineChart chart;
  chart.title = "Sparsity vs multi-modality on inputs (10, v, −1)";
  chart.x_axis = {.label = "multi-modality M", .range = std::pair{-0.02, 1.02}};
  chart.y_axis = {.label = "sparsity S", .range = std::pair{-0.02, 1.02}};
  chart.legend = plot::LegendPlace::Hidden;  // drawn beside the plot, below
  // v = 10 would tie the maximum, leaving M without a term (undefined); 9 shows the near tie.
  const std::vector<float> middles{9, 8, 6, 4, 2};
  struct PointMapping {
    nn::AttentionKind kind;
    Marker marker;
    const char* name;
  };
  // Every normalizer without a temperature is one point per input, each with its own marker.
  const Marker markers[] = {Marker::Circle, Marker::Square, Marker::Triangle, Marker::Diamond};
  std::vector<PointMapping> point_mappings;
  for (const nn::Normalizer& n : nn::normalizers())
    if (!n.has_temperature)
      point_mappings.push_back({n.kind, markers[point_mappings.size() % 4], n.title});
  std::vector<plot::LegendEntry> legend;
  for (size_t i = 0; i < middles.size(); ++i) {
    const std::vector<float> x{10.0f, middles[i], -1.0f};
    const Color color = plot::palette(static_cast<int>(i));
    std::vector<double> ms, ss;
    for (int step = 0; step <= 60; ++step) {  // T from 1/8 to 8, log-spaced
      const float T = static_cast<float>(std::pow(2.0, -3.0 + step * 0.1));
      const RowMeasures m = measure(nn::AttentionKind::Softmax, x, o, T);
      ms.push_back(m.multimodality);
      ss.push_back(m.sparsity);
    }
    chart.add_series("", ms, ss).color = color;
    legend.push_back(
        {fmt("v = %g: SoftMax, T = 1/8 … 8", middles[i]), color, true, {}, Marker::None});
    for (const PointMapping& pm : point_mappings) {
      const RowMeasures m = measure(pm.kind, x, o);
      plot::Series& s = chart.add_points("", {m.multimodality}, {m.sparsity}, pm.marker);
      s.color = color;
      s.marker_radius = pm.kind == nn::AttentionKind::MultiMax ? 7 : 5;
    }
    if (middles[i] == 8) {  // name the temperatures on one curve
      for (float T : o.temperatures) {
        const RowMeasures m = measure(nn::AttentionKind::Softmax, x, o, T);
        chart.annotations.push_back(
            {m.multimodality + 0.012, m.sparsity - 0.035, fmt("T=%g", T), color});
      }
    }
  }
  for (const PointMapping& pm : point_mappings)
    legend.push_back({pm.name, plot::colors::axis, false, {}, pm.marker});

  Canvas canvas(1100, 760);
  chart.draw(canvas, {0, 0, 780, 760});
  plot::draw_legend(canvas, legend, {790, 60});
  canvas.text({790, 60 + plot::legend_box(legend, {0, 0}).height + 16},
              "colour: the input (10, v, −1)", {.size = 13, .color = plot::colors::axis});
  canvas.text({790, 60 + plot::legend_box(legend, {0, 0}).height + 36}, "shape: the mapping",
              {.size = 13, .color = plot::colors::axis});
  canvas.text({790, 60 + plot::legend_box(legend, {0, 0}).height + 56},
              "(v = 10 ties the maximum: M is undefined)",
              {.size = 13, .color = plot::colors::axis});
  const std::string path = dir + "/tradeoff.png";
  canvas.save_png(path);
  return path;
}

}  // namespace

std::vector<std::pair<double, std::string>> breakpoint_labels(const std::array<float, 4>& r_all,
                                                              int order) {
  static const char* names[4] = {"r₀", "r₁", "r₂", "r₃"};
  std::vector<std::pair<double, std::string>> out;
  for (int k = 0; k < (order == 2 ? 4 : 2); ++k) {
    const double r = r_all[static_cast<size_t>(k)];
    auto same = std::find_if(out.begin(), out.end(), [r](const auto& e) { return e.first == r; });
    if (same == out.end())
      out.push_back({r, names[k]});
    else
      same->second += std::string(" = ") + names[k];
  }
  for (auto& [r, label] : out) label += fmt(" = %g", r);
  return out;
}

std::vector<std::string> write_explore_figures(const std::string& dir,
                                               const ExploreOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  MMX_CHECK(!ec && std::filesystem::is_directory(dir),
            "explore: cannot create the figure directory '", dir, "'",
            ec ? ": " + ec.message() : std::string());
  return {write_modulator(dir, options), write_simplex(dir, options), write_tradeoff(dir, options)};
}

}  // namespace mmx::cli
