// The plotting library: figures are written as PNG, read back with libpng, and checked pixel
// by pixel for size, background, series colours and the text that labels them.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "engine/error.hpp"
#include "plot/axes.hpp"
#include "plot/canvas.hpp"
#include "plot/heatmap.hpp"
#include "plot/line_chart.hpp"
#include "plot/png_io.hpp"
#include "plot/simplex_plot.hpp"
#include "tests/scratch_dir.hpp"

using namespace mmx::plot;
namespace fs = std::filesystem;

namespace {

int count_pixels(const RgbImage& image, Color color) {
  int n = 0;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) n += image.at(x, y) == color;
  return n;
}

int count_non_white(const RgbImage& image, const Rect& r) {
  int n = 0;
  for (int y = static_cast<int>(r.y); y < static_cast<int>(r.bottom()); ++y)
    for (int x = static_cast<int>(r.x); x < static_cast<int>(r.right()); ++x)
      n += !(image.at(x, y) == colors::white);
  return n;
}

}  // namespace

TEST_CASE("nice ticks fall on 1/2/5 x 10^k steps inside the range") {
  struct Row {
    double lo, hi;
    int target;
    std::vector<double> expected;
  };
  const Row rows[] = {
      {0, 1, 6, {0, 0.2, 0.4, 0.6, 0.8, 1.0}},
      {-0.05, 1.05, 6, {0, 0.2, 0.4, 0.6, 0.8, 1.0}},
      {-3, 7, 6, {-2, 0, 2, 4, 6}},
      {0, 1000, 3, {0, 500, 1000}},
  };
  for (const Row& row : rows) {
    const std::vector<double> ticks = nice_ticks(row.lo, row.hi, row.target);
    REQUIRE(ticks.size() == row.expected.size());
    for (size_t i = 0; i < ticks.size(); ++i) CHECK(ticks[i] == doctest::Approx(row.expected[i]));
  }
  CHECK(log_ticks(0.002, 50) == std::vector<double>{0.01, 0.1, 1, 10});
  CHECK(format_tick(0.4, 0.2) == "0.4");
  CHECK(format_tick(0.25, 0.05) == "0.25");
  CHECK(format_tick(10, 5) == "10");
  CHECK(format_tick(1e-5, 1e-5) == "1e-05");
  CHECK_THROWS_AS(nice_ticks(1, 1, 5), mmx::Error);
}

TEST_CASE("viridis matches matplotlib's table at its ends and middle") {
  struct Row {
    double t;
    Color expected;  // matplotlib's viridis(t) in 8 bits
  };
  for (const Row& row :
       {Row{0.0, {68, 1, 84}}, Row{0.5, {33, 145, 140}}, Row{1.0, {253, 231, 37}}}) {
    const Color c = viridis(row.t);
    CHECK(std::abs(c.r - row.expected.r) <= 5);
    CHECK(std::abs(c.g - row.expected.g) <= 5);
    CHECK(std::abs(c.b - row.expected.b) <= 5);
  }
}

TEST_CASE("canvas primitives land where they are drawn and round-trip through PNG") {
  ScratchDir dir("plot");
  Canvas canvas(120, 80);
  const Color red{220, 30, 30}, blue{20, 40, 200};
  canvas.fill_rect({10, 10, 20, 20}, red);
  canvas.line({40, 60}, {110, 60}, blue, 3.0);
  canvas.fill_circle({90, 25}, 8, Color{0, 160, 0});
  canvas.text({5, 75}, "σ(x) = 1", {.size = 14});
  canvas.save_png((dir / "primitives.png").string());
  CHECK_FALSE(fs::exists((dir / "primitives.png.tmp").string()));  // the temp file was renamed

  const RgbImage image = read_png((dir / "primitives.png").string());
  CHECK(image.width == 120);
  CHECK(image.height == 80);
  CHECK(image.at(0, 0) == colors::white);
  CHECK(image.at(20, 20) == red);
  CHECK(image.at(75, 60) == blue);           // on the line's centre
  CHECK(image.at(75, 64) == colors::white);  // 3px wide: 4px below is clear
  CHECK(image.at(90, 25) == Color{0, 160, 0});
  CHECK(count_non_white(image, {5, 60, 60, 18}) > 20);  // the text left ink
}

TEST_CASE("clipping drops drawing outside the clip rect") {
  Canvas canvas(50, 50);
  canvas.set_clip(Rect{0, 0, 25, 50});
  canvas.fill_rect({0, 0, 50, 50}, colors::black);
  canvas.set_clip(std::nullopt);
  CHECK(canvas.pixel(10, 10) == colors::black);
  CHECK(canvas.pixel(40, 10) == colors::white);
}

TEST_CASE("vertical text runs top to bottom in a narrow column") {
  Canvas canvas(60, 200);
  canvas.text({30, 100}, "a long y label",
              {.size = 14,
               .halign = HAlign::Center,
               .valign = VAlign::Middle,
               .direction = TextDirection::Up});
  const RgbImage& image = canvas.image();
  CHECK(count_non_white(image, {20, 40, 20, 120}) > 50);  // the column holds the ink
  CHECK(count_non_white(image, {0, 0, 18, 200}) == 0);    // nothing spills sideways
  CHECK(count_non_white(image, {42, 0, 18, 200}) == 0);
}

TEST_CASE("line chart: series colours, white background, legend text, log-y") {
  ScratchDir dir("plot");
  LineChart chart;
  chart.title = "loss";
  chart.x_axis.label = "step";
  chart.y_axis.label = "cross-entropy";
  std::vector<double> x, train, valid;
  for (int i = 0; i <= 50; ++i) {
    x.push_back(i);
    train.push_back(3.0 * std::exp(-i / 15.0) + 0.1);
    valid.push_back(3.2 * std::exp(-i / 18.0) + 0.3);
  }
  chart.add_series("train", x, train);
  chart.add_series("valid", x, valid).marker = Marker::Circle;
  chart.references.push_back(
      {.kind = ReferenceLine::Kind::Horizontal, .value = 1.0, .label = "1 nat"});
  chart.save_png((dir / "loss.png").string(), 640, 420);

  const RgbImage image = read_png((dir / "loss.png").string());
  CHECK(image.width == 640);
  CHECK(image.height == 420);
  CHECK(image.at(2, 2) == colors::white);
  CHECK(count_pixels(image, palette(0)) > 200);  // solid core of a 2px line
  CHECK(count_pixels(image, palette(1)) > 200);

  chart.y_axis.scale = Scale::Log;
  chart.series[0].y[3] = -1;  // not drawable on log-y: the line breaks there, no error
  chart.save_png((dir / "loss_log.png").string(), 640, 420);
  CHECK(count_pixels(read_png((dir / "loss_log.png").string()), palette(0)) > 150);

  chart.series[1].y.pop_back();
  CHECK_THROWS_AS(chart.save_png((dir / "bad.png").string()), mmx::Error);
}

TEST_CASE("heatmap: cells take viridis colours of their values, labels and colorbar fit") {
  ScratchDir dir("plot");
  Heatmap map;
  map.title = "attention";
  map.rows = 2;
  map.cols = 3;
  map.values = {0, 0.5, 1, 1, 0.5, 0};
  map.row_labels = {"q0", "q1"};
  map.col_labels = {"k0", "k1", "k2"};
  map.colorbar_label = "weight";
  map.save_png((dir / "heat.png").string(), 500, 360);
  const RgbImage image = read_png((dir / "heat.png").string());
  CHECK(image.width == 500);
  CHECK(count_pixels(image, viridis(0.0)) > 1000);  // two cells of the minimum, and the bar
  CHECK(count_pixels(image, viridis(1.0)) > 1000);
  CHECK(image.at(1, 1) == colors::white);

  map.values.pop_back();
  CHECK_THROWS_AS(map.save_png((dir / "bad.png").string()), mmx::Error);
}

TEST_CASE("simplex plot: corners are one-hot, paths are drawn, non-distributions refused") {
  const Point a{0, 100}, b{100, 100}, c{50, 0};
  const Point centre = simplex_point({1 / 3.0, 1 / 3.0, 1 / 3.0}, a, b, c);
  CHECK(centre.x == doctest::Approx(50));
  CHECK(centre.y == doctest::Approx(200 / 3.0));
  CHECK(simplex_point({0, 1, 0}, a, b, c).x == doctest::Approx(100));

  ScratchDir dir("plot");
  SimplexPlot plot;
  plot.title = "softmax";
  plot.add_path("(t, 0, -t)", {{0.34, 0.33, 0.33}, {0.6, 0.3, 0.1}, {0.9, 0.09, 0.01}});
  plot.save_png((dir / "simplex.png").string());
  CHECK(count_pixels(read_png((dir / "simplex.png").string()), palette(0)) > 100);

  plot.add_path("bad", {{0.5, 0.6, 0.1}});
  CHECK_THROWS_AS(plot.save_png((dir / "bad.png").string()), mmx::Error);
}

TEST_CASE("a path that cannot be written is an mmx::Error naming it") {
  Canvas canvas(10, 10);
  try {
    canvas.save_png("/nonexistent-dir/figure.png");
    FAIL("expected an error");
  } catch (const mmx::Error& e) {
    CHECK(std::string(e.what()).find("/nonexistent-dir/figure.png") != std::string::npos);
  }
  CHECK_THROWS_AS(read_png("/nonexistent-dir/figure.png"), mmx::Error);
  CHECK_THROWS_AS(Canvas(0, 10), mmx::Error);
}
