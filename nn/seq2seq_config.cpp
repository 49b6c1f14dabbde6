#include "nn/seq2seq_config.hpp"

#include <nlohmann/json.hpp>

#include "engine/error.hpp"

namespace mmx::nn {

namespace {

template <typename T>
T field(const nlohmann::json& j, const char* key) {
  MMX_CHECK(j.is_object() && j.contains(key), "Seq2SeqConfig: JSON lacks field '", key, "'");
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(cat("Seq2SeqConfig: field '", key, "' has the wrong type: ", e.what()));
  }
}

}  // namespace

void Seq2SeqConfig::validate() const {
  MMX_CHECK(vocab > kFirstCharId, "Seq2SeqConfig: vocab must exceed the ", kFirstCharId,
            " special ids, got ", vocab);
  MMX_CHECK(d_model > 0, "Seq2SeqConfig: d_model must be positive, got ", d_model);
  MMX_CHECK(heads > 0 && d_model % heads == 0, "Seq2SeqConfig: heads (", heads,
            ") must be positive and divide d_model (", d_model, ")");
  MMX_CHECK(encoder_layers > 0, "Seq2SeqConfig: encoder_layers must be positive, got ",
            encoder_layers);
  MMX_CHECK(decoder_layers > 0, "Seq2SeqConfig: decoder_layers must be positive, got ",
            decoder_layers);
  MMX_CHECK(max_source_len > 0, "Seq2SeqConfig: max_source_len must be positive, got ",
            max_source_len);
  MMX_CHECK(max_target_len > 1, "Seq2SeqConfig: max_target_len must be > 1, got ",
            max_target_len);
  MMX_CHECK(dropout >= 0.0f && dropout < 1.0f, "Seq2SeqConfig: dropout must be in [0, 1), got ",
            dropout);
  MMX_CHECK(multimax_order == 1 || multimax_order == 2,
            "Seq2SeqConfig: multimax_order must be 1 or 2, got ", multimax_order);
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
                     {"encoder_attention", attention_kind_name(c.encoder_attention)},
                     {"decoder_attention", attention_kind_name(c.decoder_attention)},
                     {"cross_attention", attention_kind_name(c.cross_attention)},
                     {"multimax_order", c.multimax_order},
                     {"multimax_per_head", c.multimax_per_head}};
}

void from_json(const nlohmann::json& j, Seq2SeqConfig& c) {
  Seq2SeqConfig read;
  read.vocab = field<int64_t>(j, "vocab");
  read.d_model = field<int64_t>(j, "d_model");
  read.heads = field<int64_t>(j, "heads");
  read.encoder_layers = field<int64_t>(j, "encoder_layers");
  read.decoder_layers = field<int64_t>(j, "decoder_layers");
  read.max_source_len = field<int64_t>(j, "max_source_len");
  read.max_target_len = field<int64_t>(j, "max_target_len");
  read.dropout = field<float>(j, "dropout");
  read.encoder_attention = parse_attention_kind(field<std::string>(j, "encoder_attention"));
  read.decoder_attention = parse_attention_kind(field<std::string>(j, "decoder_attention"));
  read.cross_attention = parse_attention_kind(field<std::string>(j, "cross_attention"));
  read.multimax_order = field<int>(j, "multimax_order");
  read.multimax_per_head = field<bool>(j, "multimax_per_head");
  read.validate();
  c = read;
}

}  // namespace mmx::nn
