// The heatmaps of `mmx attention`: for each layer a grid of heads, each head's attention weights
// labelled with the tokens (characters, or patches), plus an overview of every layer x head.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "nn/data/char_tokenizer.hpp"
#include "nn/layers/attention.hpp"

namespace mmx::cli {

// One input's attention through a model, ready to draw.
struct AttentionPicture {
  std::vector<nn::AttentionMap> layers;  // per layer: scores and weights [1, heads, T, T]
  std::vector<std::string> labels;       // T: what each position holds ("h", "␣", "2,3")
  std::string normalizer;                // for the titles: "multimax", ...
  std::string position_name;             // the axes: "character", "patch (row,col)"
  bool causal = true;                    // how the rows were masked (for S and M)
};

// The paper's measures and the support of one head's rows.
struct HeadSummary {
  double sparsity = 0;           // mean S over the head's rows (NaN: no row has a term)
  double multimodality = 0;      // mean M
  std::vector<int64_t> support;  // per query row: how many keys carry non-zero weight
};
// `layer`, `head` index picture.layers; checked.
HeadSummary summarize_head(const AttentionPicture& picture, int64_t layer, int64_t head);

// Writes attention_layer<L>.png (one heatmap per head) for every layer and
// attention_overview.png (layers x heads, small) into `dir` (created if missing). Returns the
// paths written, layers first.
std::vector<std::filesystem::path> write_attention_heatmaps(const AttentionPicture& picture,
                                                            const std::filesystem::path& dir);

// A character as a label a person can see: space "␣", newline "↵", tab "→", another control
// character its code ("U+0007"), anything else itself.
std::string visible_character(char32_t c);
// The visible label of each token id.
std::vector<std::string> character_labels(const data::CharTokenizer& tokenizer,
                                          const std::vector<int64_t>& ids);
// "row,col" of each patch of a per_side x per_side grid, row-major (the ViT's token order).
std::vector<std::string> patch_labels(int64_t per_side);

}  // namespace mmx::cli
