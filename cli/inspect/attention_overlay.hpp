// The ViT picture of `mmx attention --image`: the image itself and, over it, for every layer and
// head, how much attention each patch receives -- from one query patch, or averaged over all.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "cli/inspect/attention_figures.hpp"
#include "engine/tensor.hpp"

namespace mmx::cli {

struct ImageAttention {
  Tensor image;                  // [C, H, W], any scale (drawn from its min to its max, grey)
  int64_t patch_size = 0;        // the ViT's; H and W are multiples of it
  AttentionPicture picture;      // over the patches, row-major, non-causal
  std::optional<int64_t> query;  // the query patch whose weights are shown; none: the mean row
  std::string caption;           // e.g. "test image 7: Trouser, predicted Trouser"
};

// Writes one PNG: a header with the plain image and the caption, then a row per layer with a
// panel per head and one for the mean over heads. Returns `png`.
std::filesystem::path write_attention_overlay(const ImageAttention& input,
                                              const std::filesystem::path& png);

}  // namespace mmx::cli
