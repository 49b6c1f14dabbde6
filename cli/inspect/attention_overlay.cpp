#include "cli/inspect/attention_overlay.hpp"

#include <algorithm>
#include <cmath>

#include "engine/error.hpp"
#include "plot/canvas.hpp"

namespace mmx::cli {

namespace {

constexpr double kPanelTitle = 22;
constexpr double kHeader = 64;

// Grey levels in [0, 1] of an image [C, H, W]: the channel mean, stretched to its min..max.
std::vector<double> grey_levels(const Tensor& image) {
  const int64_t C = image.size(0), HW = image.size(1) * image.size(2);
  const std::vector<float> v = image.contiguous().to_vector();
  std::vector<double> grey(static_cast<size_t>(HW), 0.0);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < HW; ++i)
      grey[static_cast<size_t>(i)] += v[static_cast<size_t>(c * HW + i)] / C;
  const auto [lo, hi] = std::minmax_element(grey.begin(), grey.end());
  const double low = *lo, span = *hi > *lo ? *hi - *lo : 1.0;
  for (double& g : grey) g = (g - low) / span;
  return grey;
}

// The weight each key patch gets in one head: the query's row, or the mean of all rows.
std::vector<double> received(const nn::AttentionMap& map, int64_t head,
                             const std::optional<int64_t>& query) {
  const int64_t T = map.probabilities.size(3);
  const std::vector<float> p = map.probabilities.slice(1, head, head + 1).contiguous().to_vector();
  std::vector<double> out(static_cast<size_t>(T), 0.0);
  for (int64_t q = 0; q < T; ++q) {
    if (query && q != *query) continue;
    for (int64_t k = 0; k < T; ++k)
      out[static_cast<size_t>(k)] += p[static_cast<size_t>(q * T + k)];
  }
  if (!query)
    for (double& w : out) w /= static_cast<double>(T);
  return out;
}

struct Panel {
  const std::vector<double>* grey;
  int64_t height, width, patch_size;
};

// The image scaled to fit `area` below a title; when `weights` are given each patch is tinted
// with viridis by its weight relative to the largest (so every panel uses its full scale).
void draw_panel(plot::Canvas& canvas, const plot::Rect& area, const Panel& image,
                const std::string& title, const std::vector<double>* weights,
                const std::optional<int64_t>& query) {
  canvas.text({area.x + area.width / 2, area.y + 2}, title,
              {.size = 13, .halign = plot::HAlign::Center, .valign = plot::VAlign::Top});
  const double scale =
      std::floor(std::min(area.width / static_cast<double>(image.width),
                          (area.height - kPanelTitle) / static_cast<double>(image.height)));
  const double x0 = area.x + (area.width - scale * static_cast<double>(image.width)) / 2;
  const double y0 = area.y + kPanelTitle;
  const int64_t per_row = image.width / image.patch_size;
  double top = 0;
  if (weights) top = *std::max_element(weights->begin(), weights->end());
  for (int64_t y = 0; y < image.height; ++y)
    for (int64_t x = 0; x < image.width; ++x) {
      const double g = (*image.grey)[static_cast<size_t>(y * image.width + x)];
      const plot::Color grey{static_cast<uint8_t>(std::lround(255 * g)),
                             static_cast<uint8_t>(std::lround(255 * g)),
                             static_cast<uint8_t>(std::lround(255 * g))};
      plot::Color color = grey;
      if (weights) {
        const int64_t patch = (y / image.patch_size) * per_row + x / image.patch_size;
        const double t = top > 0 ? (*weights)[static_cast<size_t>(patch)] / top : 0.0;
        color = plot::mix(grey, plot::viridis(t), 0.6);  // the image stays visible beneath
      }
      canvas.fill_rect({x0 + x * scale, y0 + y * scale, scale, scale}, color);
    }
  const double side = scale * static_cast<double>(image.patch_size);
  for (int64_t i = 1; i < per_row; ++i) {  // the patch grid
    canvas.line({x0 + i * side, y0}, {x0 + i * side, y0 + scale * image.height}, {255, 255, 255},
                0.6);
    canvas.line({x0, y0 + i * side}, {x0 + scale * image.width, y0 + i * side}, {255, 255, 255},
                0.6);
  }
  if (weights && query)
    canvas.stroke_rect({x0 + (*query % per_row) * side, y0 + (*query / per_row) * side, side, side},
                       {230, 30, 30}, 2.5);
}

}  // namespace

std::filesystem::path write_attention_overlay(const ImageAttention& input,
                                              const std::filesystem::path& png) {
  const Tensor& image = input.image;
  MMX_CHECK(image.defined() && image.dim() == 3, "attention overlay: image must be [C, H, W], got ",
            image.defined() ? to_string(image.shape()) : "undefined");
  const int64_t H = image.size(1), W = image.size(2), p = input.patch_size;
  MMX_CHECK(p > 0 && H % p == 0 && W % p == 0, "attention overlay: patch size ", p,
            " does not tile an image of ", to_string(image.shape()));
  const int64_t tokens = (H / p) * (W / p);
  const auto& layers = input.picture.layers;
  MMX_CHECK(!layers.empty(), "attention overlay: no layers to draw");
  for (const nn::AttentionMap& map : layers)
    MMX_CHECK(map.probabilities.dim() == 4 && map.probabilities.size(0) == 1 &&
                  map.probabilities.size(2) == tokens && map.probabilities.size(3) == tokens,
              "attention overlay: weights ", to_string(map.probabilities.shape()), " for ", tokens,
              " patches; expected [1, heads, ", tokens, ", ", tokens, "]");
  MMX_CHECK(!input.query || (*input.query >= 0 && *input.query < tokens),
            "attention overlay: query patch ", input.query.value_or(0), " outside 0..", tokens - 1);

  const std::vector<double> grey = grey_levels(image);
  const Panel panel{&grey, H, W, p};
  const int64_t heads = layers.front().probabilities.size(1);
  const double cell_w = 200, cell_h = 200 + kPanelTitle;
  const int columns = static_cast<int>(heads) + 1;
  plot::Canvas canvas(
      static_cast<int>(columns * cell_w),
      static_cast<int>(kHeader + cell_h * (1 + static_cast<double>(layers.size()))));
  const std::string which =
      input.query
          ? "from query patch " + input.picture.labels[static_cast<size_t>(*input.query)] + " (red)"
          : "averaged over every query patch";
  canvas.text({canvas.width() / 2.0, 8},
              input.picture.normalizer + " attention received by each patch, " + which,
              {.size = 17, .halign = plot::HAlign::Center, .valign = plot::VAlign::Top});
  canvas.text({canvas.width() / 2.0, 34},
              "yellow: most weight in that panel, dark purple: none; rows: layers, columns: heads",
              {.size = 12,
               .color = plot::colors::axis,
               .halign = plot::HAlign::Center,
               .valign = plot::VAlign::Top});
  const plot::Rect body = canvas.bounds().inset(0, kHeader, 0, 0);
  const int rows = 1 + static_cast<int>(layers.size());
  draw_panel(canvas, plot::grid_cell(body, rows, columns, 0).inset(6, 0, 6, 6), panel, "the image",
             nullptr, std::nullopt);
  canvas.text({cell_w + 12, kHeader + cell_h / 2}, input.caption,
              {.size = 15, .valign = plot::VAlign::Middle});

  for (size_t layer = 0; layer < layers.size(); ++layer) {
    std::vector<double> mean(static_cast<size_t>(tokens), 0.0);
    for (int64_t head = 0; head < heads; ++head) {
      const std::vector<double> w = received(layers[layer], head, input.query);
      for (size_t k = 0; k < w.size(); ++k) mean[k] += w[k] / static_cast<double>(heads);
      const int index =
          static_cast<int>((layer + 1) * static_cast<size_t>(columns)) + static_cast<int>(head);
      draw_panel(canvas, plot::grid_cell(body, rows, columns, index).inset(6, 0, 6, 6), panel,
                 "layer " + std::to_string(layer) + ", head " + std::to_string(head), &w,
                 input.query);
    }
    const int index = static_cast<int>((layer + 1) * static_cast<size_t>(columns)) + columns - 1;
    draw_panel(canvas, plot::grid_cell(body, rows, columns, index).inset(6, 0, 6, 6), panel,
               "layer " + std::to_string(layer) + ", mean of heads", &mean, input.query);
  }
  std::filesystem::create_directories(png.parent_path().empty() ? "." : png.parent_path());
  canvas.save_png(png.string());
  return png;
}

}  // namespace mmx::cli
