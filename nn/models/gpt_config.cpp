#include "nn/models/gpt_config.hpp"

#include <nlohmann/json.hpp>

#include "engine/error.hpp"
#include "nn/models/config_reader.hpp"

namespace mmx::nn {

void GPTConfig::validate() const {
  MMX_CHECK(vocab > 0, "GPTConfig: vocab must be positive, got ", vocab);
  MMX_CHECK(layers > 0, "GPTConfig: layers must be positive, got ", layers);
  MMX_CHECK(seq_len > 0, "GPTConfig: seq_len must be positive, got ", seq_len);
  block_attention().validate("GPTConfig");
}

AttentionOptions GPTConfig::block_attention() const {
  return {.d_model = d_model,
          .heads = heads,
          .dropout = dropout,
          .causal = true,
          .normalizer = attention,
          .projection = AttentionProjection::Fused};
}

void to_json(nlohmann::json& j, const GPTConfig& c) {
  j = nlohmann::json{{"vocab", c.vocab},
                     {"d_model", c.d_model},
                     {"layers", c.layers},
                     {"heads", c.heads},
                     {"seq_len", c.seq_len},
                     {"dropout", c.dropout},
                     {"attention", attention_kind_name(c.attention.kind)},
                     {"multimax_order", c.attention.multimax_order},
                     {"multimax_per_head", c.attention.multimax_per_head},
                     {"multimax_logits", c.multimax_logits}};
}

void from_json(const nlohmann::json& j, GPTConfig& c) {
  const ConfigReader in{j, "GPTConfig"};
  GPTConfig read;
  read.vocab = in.get<int64_t>("vocab");
  read.d_model = in.get<int64_t>("d_model");
  read.layers = in.get<int64_t>("layers");
  read.heads = in.get<int64_t>("heads");
  read.seq_len = in.get<int64_t>("seq_len");
  read.dropout = in.get<float>("dropout");
  read.attention.kind = parse_attention_kind(in.get<std::string>("attention"));
  read.attention.multimax_order = in.get<int>("multimax_order");
  read.attention.multimax_per_head = in.get<bool>("multimax_per_head");
  read.multimax_logits = in.get<bool>("multimax_logits");
  read.validate();
  c = read;
}

}  // namespace mmx::nn
