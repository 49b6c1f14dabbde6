#include "nn/models/seq2seq_config.hpp"

#include <nlohmann/json.hpp>

#include "engine/error.hpp"
#include "nn/models/config_reader.hpp"

namespace mmx::nn {

void Seq2SeqConfig::validate() const {
  MMX_CHECK(vocab > kFirstCharId, "Seq2SeqConfig: vocab must exceed the ", kFirstCharId,
            " special ids, got ", vocab);
  MMX_CHECK(encoder_layers > 0, "Seq2SeqConfig: encoder_layers must be positive, got ",
            encoder_layers);
  MMX_CHECK(decoder_layers > 0, "Seq2SeqConfig: decoder_layers must be positive, got ",
            decoder_layers);
  MMX_CHECK(max_source_len > 0, "Seq2SeqConfig: max_source_len must be positive, got ",
            max_source_len);
  MMX_CHECK(max_target_len > 1, "Seq2SeqConfig: max_target_len must be > 1, got ", max_target_len);
  attention_options(encoder_attention, /*causal=*/false).validate("Seq2SeqConfig");
  for (const AttentionConfig* other : {&decoder_attention, &cross_attention})
    MMX_CHECK(other->multimax_order == encoder_attention.multimax_order &&
                  other->multimax_per_head == encoder_attention.multimax_per_head,
              "Seq2SeqConfig: the three attentions share one multimax_order and one "
              "multimax_per_head; set them alike");
}

AttentionOptions Seq2SeqConfig::attention_options(const AttentionConfig& normalizer,
                                                  bool causal) const {
  return {.d_model = d_model,
          .heads = heads,
          .dropout = dropout,
          .causal = causal,
          .normalizer = normalizer,
          .projection = AttentionProjection::Split};
}

void to_json(nlohmann::json& j, const Seq2SeqConfig& c) {
  j = nlohmann::json{{"vocab", c.vocab},
                     {"d_model", c.d_model},
                     {"heads", c.heads},
                     {"encoder_layers", c.encoder_layers},
                     {"decoder_layers", c.decoder_layers},
                     {"max_source_len", c.max_source_len},
                     {"max_target_len", c.max_target_len},
                     {"dropout", c.dropout},
                     {"encoder_attention", attention_kind_name(c.encoder_attention.kind)},
                     {"decoder_attention", attention_kind_name(c.decoder_attention.kind)},
                     {"cross_attention", attention_kind_name(c.cross_attention.kind)},
                     {"multimax_order", c.encoder_attention.multimax_order},
                     {"multimax_per_head", c.encoder_attention.multimax_per_head},
                     {"multimax_logits", c.multimax_logits}};
}

void from_json(const nlohmann::json& j, Seq2SeqConfig& c) {
  const ConfigReader in{j, "Seq2SeqConfig"};
  Seq2SeqConfig read;
  read.vocab = in.get<int64_t>("vocab");
  read.d_model = in.get<int64_t>("d_model");
  read.heads = in.get<int64_t>("heads");
  read.encoder_layers = in.get<int64_t>("encoder_layers");
  read.decoder_layers = in.get<int64_t>("decoder_layers");
  read.max_source_len = in.get<int64_t>("max_source_len");
  read.max_target_len = in.get<int64_t>("max_target_len");
  read.dropout = in.get<float>("dropout");
  const int order = in.get<int>("multimax_order");
  const bool per_head = in.get<bool>("multimax_per_head");
  for (auto [attention, key] : {std::pair{&read.encoder_attention, "encoder_attention"},
                                {&read.decoder_attention, "decoder_attention"},
                                {&read.cross_attention, "cross_attention"}})
    *attention = {.kind = parse_attention_kind(in.get<std::string>(key)),
                  .multimax_order = order,
                  .multimax_per_head = per_head};
  read.multimax_logits = in.get_or<bool>("multimax_logits", false);
  read.validate();
  c = read;
}

}  // namespace mmx::nn
