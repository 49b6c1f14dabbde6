#include "cli/inspect/attention_figures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/error.hpp"
#include "engine/measures.hpp"
#include "nn/data/utf8.hpp"
#include "plot/heatmap.hpp"

namespace mmx::cli {

namespace {

// Enough pixels per row and column for a 12 px label, so a 64-character text stays legible.
constexpr double kCellPixels = 16;
constexpr double kHeaderHeight = 46;

// One head's weights [T, T], row-major.
std::vector<double> head_weights(const AttentionPicture& picture, int64_t layer, int64_t head) {
  const Tensor p = picture.layers[static_cast<size_t>(layer)]
                       .probabilities.slice(0, 0, 1)
                       .slice(1, head, head + 1)
                       .contiguous();
  const std::vector<float> v = p.to_vector();
  return {v.begin(), v.end()};
}

// Exact zeros become NaN, which the heatmap paints grey: a weight the normalizer cut (or the
// causal mask hid) then looks different from a merely small one.
std::vector<double> grey_zeros(std::vector<double> values) {
  for (double& v : values)
    if (v == 0.0) v = NAN;
  return values;
}

std::string format_measure(const char* name, double value) {
  char buf[32];
  if (std::isnan(value))
    std::snprintf(buf, sizeof buf, "%s -", name);
  else
    std::snprintf(buf, sizeof buf, "%s %.2f", name, value);
  return buf;
}

plot::Heatmap head_heatmap(const AttentionPicture& picture, int64_t layer, int64_t head,
                           bool with_labels) {
  const int64_t T = static_cast<int64_t>(picture.labels.size());
  const HeadSummary summary = summarize_head(picture, layer, head);
  std::vector<double> weights = head_weights(picture, layer, head);
  const double top = *std::max_element(weights.begin(), weights.end());
  plot::Heatmap map;
  map.rows = map.cols = static_cast<int>(T);
  map.values = grey_zeros(std::move(weights));
  map.range = std::pair{0.0, top > 0 ? top : 1.0};
  const std::string measures =
      format_measure("S", summary.sparsity) + "  " + format_measure("M", summary.multimodality);
  if (with_labels) {
    map.title =
        "layer " + std::to_string(layer) + ", head " + std::to_string(head) + ":  " + measures;
    map.x_label = "key " + picture.position_name;
    map.y_label = "query " + picture.position_name + "  [support]";
    map.colorbar_label = "weight";
    map.col_labels = picture.labels;
    for (int64_t i = 0; i < T; ++i) {
      char support[24];
      std::snprintf(support, sizeof support, "[%ld] ", summary.support[static_cast<size_t>(i)]);
      map.row_labels.push_back(support + picture.labels[static_cast<size_t>(i)]);
    }
  } else {
    map.title = "L" + std::to_string(layer) + " H" + std::to_string(head) + "  " + measures;
  }
  return map;
}

void draw_header(plot::Canvas& canvas, const std::string& title, bool causal) {
  canvas.text({canvas.width() / 2.0, 8}, title,
              {.size = 18, .halign = plot::HAlign::Center, .valign = plot::VAlign::Top});
  canvas.text(
      {canvas.width() / 2.0, 30},
      std::string("grey: weight exactly 0 (cut by the normalizer") +
          (causal ? " or hidden by the causal mask" : "") +
          ");  [k]: keys with non-zero weight;  S, M: sparsity, multi-modality (higher = more)",
      {.size = 12,
       .color = plot::colors::axis,
       .halign = plot::HAlign::Center,
       .valign = plot::VAlign::Top});
}

// Heads side by side, as square as the count allows.
int grid_columns(int64_t heads) {
  return static_cast<int>(std::ceil(std::sqrt(static_cast<double>(heads))));
}

}  // namespace

HeadSummary summarize_head(const AttentionPicture& picture, int64_t layer, int64_t head) {
  MMX_CHECK(layer >= 0 && layer < static_cast<int64_t>(picture.layers.size()),
            "attention figure: layer ", layer, " of ", picture.layers.size());
  const nn::AttentionMap& map = picture.layers[static_cast<size_t>(layer)];
  const int64_t T = static_cast<int64_t>(picture.labels.size());
  MMX_CHECK(map.probabilities.dim() == 4 && map.probabilities.size(0) == 1 &&
                map.probabilities.size(2) == T && map.probabilities.size(3) == T &&
                map.scores.shape() == map.probabilities.shape(),
            "attention figure: layer ", layer, " has scores ", to_string(map.scores.shape()),
            " and weights ", to_string(map.probabilities.shape()), "; expected [1, heads, ", T,
            ", ", T, "] for ", T, " labels");
  MMX_CHECK(head >= 0 && head < map.probabilities.size(1), "attention figure: head ", head, " of ",
            map.probabilities.size(1));
  const Tensor scores = map.scores.slice(1, head, head + 1);
  const Tensor probs = map.probabilities.slice(1, head, head + 1);
  const Tensor logits = map.logits.defined() ? map.logits.slice(1, head, head + 1) : Tensor();
  const AttentionMeasures m = attention_measures(scores, probs, Tensor(), picture.causal, logits);
  HeadSummary summary;
  summary.sparsity = m.sparsity_rows > 0 ? m.sparsity : NAN;
  summary.multimodality = m.multimodality_rows > 0 ? m.multimodality : NAN;
  for (float k : support_size(probs.contiguous()).to_vector())
    summary.support.push_back(static_cast<int64_t>(k));
  return summary;
}

std::vector<std::filesystem::path> write_attention_heatmaps(const AttentionPicture& picture,
                                                            const std::filesystem::path& dir) {
  MMX_CHECK(!picture.layers.empty(), "attention figure: no layers to draw");
  std::filesystem::create_directories(dir);
  const int64_t T = static_cast<int64_t>(picture.labels.size());
  const int64_t heads = picture.layers.front().probabilities.size(1);
  const int cols = grid_columns(heads);
  const int rows = static_cast<int>((heads + cols - 1) / cols);
  std::vector<std::filesystem::path> written;

  // Room for the labels around the grid: row labels and the colour bar about 190 px, title
  // and key labels about 110 px.
  const double panel_w = std::max(420.0, static_cast<double>(T) * kCellPixels + 190);
  const double panel_h = std::max(380.0, static_cast<double>(T) * kCellPixels + 110);
  for (int64_t layer = 0; layer < static_cast<int64_t>(picture.layers.size()); ++layer) {
    plot::Canvas canvas(std::max(static_cast<int>(cols * panel_w), 980),
                        static_cast<int>(kHeaderHeight + rows * panel_h));
    draw_header(canvas, picture.normalizer + " attention, layer " + std::to_string(layer),
                picture.causal);
    const plot::Rect body = canvas.bounds().inset(0, kHeaderHeight, 0, 0);
    for (int64_t head = 0; head < heads; ++head)
      head_heatmap(picture, layer, head, /*with_labels=*/true)
          .draw(canvas,
                plot::grid_cell(body, rows, cols, static_cast<int>(head)).inset(4, 4, 4, 4));
    written.push_back(dir / ("attention_layer" + std::to_string(layer) + ".png"));
    canvas.save_png(written.back().string());
  }

  const int layers = static_cast<int>(picture.layers.size());
  // At least as wide as the header's explanation line.
  plot::Canvas overview(std::max(static_cast<int>(heads) * 250, 980),
                        static_cast<int>(kHeaderHeight) + layers * 230);
  draw_header(overview, picture.normalizer + " attention: layers (rows) x heads (columns)",
              picture.causal);
  const plot::Rect body = overview.bounds().inset(0, kHeaderHeight, 0, 0);
  for (int64_t layer = 0; layer < layers; ++layer)
    for (int64_t head = 0; head < heads; ++head)
      head_heatmap(picture, layer, head, /*with_labels=*/false)
          .draw(overview, plot::grid_cell(body, layers, static_cast<int>(heads),
                                          static_cast<int>(layer * heads + head))
                              .inset(4, 4, 4, 4));
  written.push_back(dir / "attention_overview.png");
  overview.save_png(written.back().string());
  return written;
}

std::string visible_character(char32_t c) {
  switch (c) {
    case U' ': return "␣";
    case U'\n': return "↵";
    case U'\t': return "→";
    default: break;
  }
  if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0)) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(c));
    return buf;
  }
  std::string out;
  data::append_utf8(out, c);
  return out;
}

std::vector<std::string> character_labels(const data::CharTokenizer& tokenizer,
                                          const std::vector<int64_t>& ids) {
  std::vector<std::string> labels;
  for (int64_t id : ids) {
    MMX_CHECK(id >= 0 && id < tokenizer.vocab_size(), "character_labels: id ", id,
              " outside the vocabulary of ", tokenizer.vocab_size());
    labels.push_back(visible_character(tokenizer.vocab()[static_cast<size_t>(id)]));
  }
  return labels;
}

std::vector<std::string> patch_labels(int64_t per_side) {
  std::vector<std::string> labels;
  for (int64_t r = 0; r < per_side; ++r)
    for (int64_t c = 0; c < per_side; ++c)
      labels.push_back(std::to_string(r) + "," + std::to_string(c));
  return labels;
}

}  // namespace mmx::cli
