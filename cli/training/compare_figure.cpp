#include "cli/training/compare_figure.hpp"

#include <algorithm>
#include <functional>

#include "engine/error.hpp"
#include "plot/line_chart.hpp"

namespace mmx::cli {

namespace {

using Figure = std::function<double(const nn::EvalRecord&)>;

// One panel: per kind, every seed's curve thin and unnamed, the mean over seeds thick and named.
plot::LineChart panel(const std::vector<CompareRun>& runs, const std::string& title,
                      const std::string& y_label, const Figure& figure) {
  plot::LineChart chart;
  chart.title = title;
  chart.x_axis.label = "step";
  chart.y_axis.label = y_label;
  std::vector<std::string> kinds;
  for (const CompareRun& r : runs)
    if (std::find(kinds.begin(), kinds.end(), r.attention) == kinds.end())
      kinds.push_back(r.attention);
  for (size_t k = 0; k < kinds.size(); ++k) {
    const plot::Color color = plot::palette(static_cast<int>(k));
    std::vector<double> steps, mean;
    int seeds = 0;
    for (const CompareRun& r : runs) {
      if (r.attention != kinds[k]) continue;
      std::vector<double> x, y;
      for (const nn::EvalRecord& e : r.evals) {
        x.push_back(static_cast<double>(e.step));
        y.push_back(figure(e));
      }
      if (seeds++ == 0) {
        steps = x;
        mean.assign(y.size(), 0.0);
      }
      MMX_CHECK(x == steps, "compare figure: the ", kinds[k],
                " runs evaluated at different steps (", r.dir.string(), ")");
      for (size_t i = 0; i < y.size(); ++i) mean[i] += y[i];
      plot::Series& s = chart.add_series("", std::move(x), std::move(y));
      s.color = plot::mix(color, plot::colors::white, 0.45);
      s.line_width = 1.0;
    }
    for (double& m : mean) m /= seeds;
    plot::Series& s = chart.add_series(kinds[k], std::move(steps), std::move(mean));
    s.color = color;
    s.line_width = 2.5;
  }
  return chart;
}

}  // namespace

void write_compare_curves(const std::vector<CompareRun>& runs, const std::filesystem::path& png,
                          const std::string& title) {
  MMX_CHECK(!runs.empty() && !runs.front().evals.empty(), "compare figure: no runs to draw");
  const std::optional<nn::TaskMetric>& metric = runs.front().evals.back().metric;
  const int panels = metric ? 2 : 1;
  plot::Canvas canvas(panels * 760, 600);
  canvas.text({canvas.width() / 2.0, 8}, title,
              {.size = 18, .halign = plot::HAlign::Center, .valign = plot::VAlign::Top});
  const plot::Rect body = canvas.bounds().inset(0, 36, 0, 0);
  panel(runs, "validation loss (thick: mean over seeds)", "cross-entropy (nats)",
        [](const nn::EvalRecord& e) { return e.val_loss; })
      .draw(canvas, plot::grid_cell(body, 1, panels, 0));
  if (metric) {
    const std::string name = metric->name;
    panel(runs, "validation " + name + " (thick: mean over seeds)", name,
          [name](const nn::EvalRecord& e) {
            MMX_CHECK(e.metric && e.metric->name == name, "compare figure: an evaluation at step ",
                      e.step, " has no ", name);
            return e.metric->value;
          })
        .draw(canvas, plot::grid_cell(body, 1, panels, 1));
  }
  canvas.save_png(png.string());
}

}  // namespace mmx::cli
