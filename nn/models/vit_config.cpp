#include "nn/models/vit_config.hpp"

#include <nlohmann/json.hpp>

#include "engine/error.hpp"
#include "nn/models/config_reader.hpp"

namespace mmx::nn {

namespace {
struct PoolingName {
  ViTPooling pooling;
  const char* name;
};
constexpr PoolingName kPoolingNames[] = {{ViTPooling::MeanThenNorm, "mean-then-norm"},
                                         {ViTPooling::NormThenMean, "norm-then-mean"}};
}  // namespace

const char* vit_pooling_name(ViTPooling pooling) {
  for (const PoolingName& row : kPoolingNames)
    if (row.pooling == pooling) return row.name;
  throw Error("vit_pooling_name: unknown pooling");
}

std::vector<std::string> vit_pooling_names() {
  std::vector<std::string> names;
  for (const PoolingName& row : kPoolingNames) names.emplace_back(row.name);
  return names;
}

ViTPooling parse_vit_pooling(const std::string& name) {
  for (const PoolingName& row : kPoolingNames)
    if (name == row.name) return row.pooling;
  throw Error(cat("ViTConfig: unknown pooling '", name, "'; expected mean-then-norm or ",
                  "norm-then-mean"));
}

void ViTConfig::validate() const {
  MMX_CHECK(image_size > 0, "ViTConfig: image_size must be positive, got ", image_size);
  MMX_CHECK(channels > 0, "ViTConfig: channels must be positive, got ", channels);
  MMX_CHECK(patch_size > 0 && image_size % patch_size == 0, "ViTConfig: patch_size (", patch_size,
            ") must be positive and divide image_size (", image_size, ")");
  MMX_CHECK(classes > 1, "ViTConfig: classes must be at least 2, got ", classes);
  MMX_CHECK(layers > 0, "ViTConfig: layers must be positive, got ", layers);
  block_attention().validate("ViTConfig");
}

AttentionOptions ViTConfig::block_attention() const {
  return {.d_model = d_model,
          .heads = heads,
          .dropout = dropout,
          .causal = false,
          .normalizer = attention,
          .projection = AttentionProjection::Fused};
}

void to_json(nlohmann::json& j, const ViTConfig& c) {
  j = nlohmann::json{{"image_size", c.image_size},
                     {"channels", c.channels},
                     {"patch_size", c.patch_size},
                     {"classes", c.classes},
                     {"d_model", c.d_model},
                     {"layers", c.layers},
                     {"heads", c.heads},
                     {"dropout", c.dropout},
                     {"attention", attention_kind_name(c.attention.kind)},
                     {"multimax_order", c.attention.multimax_order},
                     {"multimax_per_head", c.attention.multimax_per_head},
                     {"multimax_logits", c.multimax_logits},
                     {"pooling", vit_pooling_name(c.pooling)}};
}

void from_json(const nlohmann::json& j, ViTConfig& c) {
  const ConfigReader in{j, "ViTConfig"};
  ViTConfig read;
  read.image_size = in.get<int64_t>("image_size");
  read.channels = in.get<int64_t>("channels");
  read.patch_size = in.get<int64_t>("patch_size");
  read.classes = in.get<int64_t>("classes");
  read.d_model = in.get<int64_t>("d_model");
  read.layers = in.get<int64_t>("layers");
  read.heads = in.get<int64_t>("heads");
  read.dropout = in.get<float>("dropout");
  read.attention.kind = parse_attention_kind(in.get<std::string>("attention"));
  read.attention.multimax_order = in.get<int>("multimax_order");
  read.attention.multimax_per_head = in.get<bool>("multimax_per_head");
  read.multimax_logits = in.get<bool>("multimax_logits");
  read.pooling = parse_vit_pooling(
      in.get_or<std::string>("pooling", vit_pooling_name(ViTPooling::MeanThenNorm)));
  read.validate();
  c = read;
}

}  // namespace mmx::nn
