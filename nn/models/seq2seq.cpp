#include "nn/models/seq2seq.hpp"

#include <limits>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/ops.hpp"
#include "nn/models/model_setup.hpp"

namespace mmx::nn {

namespace {

void check_ids(const char* what, const std::vector<int64_t>& ids, int64_t batch, int64_t len,
               int64_t max_len) {
  MMX_CHECK(batch > 0 && len > 0 && static_cast<int64_t>(ids.size()) == batch * len,
            "Seq2Seq: ", ids.size(), " ", what, " ids for batch ", batch, " x length ", len);
  MMX_CHECK(len <= max_len, "Seq2Seq: ", what, " length ", len, " exceeds the model's ", max_len);
}

// Additive [batch, 1, 1, len]: -inf where ids hold kPadId, else 0. As a key mask it hides
// padded keys; reshaped to [batch, 1, len, 1] it hides the rows of padded queries.
Tensor padding_mask(const std::vector<int64_t>& ids, int64_t batch, int64_t len) {
  Tensor mask = Tensor::zeros({batch, 1, 1, len});
  for (int64_t i = 0; i < batch * len; ++i)
    if (ids[static_cast<size_t>(i)] == kPadId)
      mask.data()[i] = -std::numeric_limits<float>::infinity();
  return mask;
}

Tensor as_query_rows(const Tensor& key_mask) {
  return reshape(key_mask, {key_mask.size(0), 1, key_mask.size(3), 1});
}

// Rows `rows` of x along axis 0, as a new contiguous tensor.
Tensor gather_rows(const Tensor& x, const std::vector<int64_t>& rows) {
  std::vector<Tensor> parts;
  parts.reserve(rows.size());
  for (int64_t r : rows) {
    MMX_CHECK(r >= 0 && r < x.size(0), "select_rows: row ", r, " outside a batch of ", x.size(0));
    parts.push_back(slice(x, 0, r, r + 1));
  }
  return mmx::cat(parts, int64_t{0});
}

}  // namespace

Seq2Seq::Seq2Seq(const Seq2SeqConfig& config, uint64_t seed)
    : config_(validated(config)),
      init_gen_(seed),
      dropout_gen_(dropout_seed(seed)),
      src_tok_(config.vocab, config.d_model, init_gen_),
      encoder_ln_(config.d_model),
      tgt_tok_(config.vocab, config.d_model, init_gen_),
      decoder_ln_(config.d_model),
      head_(config.d_model, config.vocab, init_gen_, /*bias=*/false),
      embedding_dropout_(config.dropout, dropout_gen_) {
  register_module("src_tok", src_tok_);
  src_pos_ = register_parameter(
      "src_pos", Tensor::randn({config.max_source_len, config.d_model}, init_gen_, 0.0f, 0.02f));
  for (int64_t l = 0; l < config.encoder_layers; ++l)
    encoder_.push_back(std::make_unique<EncoderLayer>(config, init_gen_, dropout_gen_));
  register_module("encoder", encoder_);
  register_module("encoder_ln", encoder_ln_);
  register_module("tgt_tok", tgt_tok_);
  tgt_pos_ = register_parameter(
      "tgt_pos", Tensor::randn({config.max_target_len, config.d_model}, init_gen_, 0.0f, 0.02f));
  for (int64_t l = 0; l < config.decoder_layers; ++l)
    decoder_.push_back(std::make_unique<DecoderLayer>(config, init_gen_, dropout_gen_));
  register_module("decoder", decoder_);
  register_module("decoder_ln", decoder_ln_);
  register_module("head", head_);
  register_module("embedding_dropout", embedding_dropout_);
  if (config.multimax_logits) {
    head_multimax_ =
        std::make_unique<MultiMaxParameters>(0, config.encoder_attention.multimax_order, init_gen_);
    register_module("head_multimax", *head_multimax_);
  }
}

EncodedSource Seq2Seq::encode(const std::vector<int64_t>& source, int64_t batch, int64_t source_len,
                              std::vector<AttentionMap>* capture) const {
  check_ids("source", source, batch, source_len, config_.max_source_len);
  const Tensor mask = padding_mask(source, batch, source_len);
  Tensor x = src_tok_.forward(source, {batch, source_len}) + slice(src_pos_, 0, 0, source_len);
  x = embedding_dropout_.forward(x);
  if (capture) capture->assign(encoder_.size(), AttentionMap());
  for (size_t l = 0; l < encoder_.size(); ++l)
    x = encoder_[l].forward(x, mask, capture ? &(*capture)[l] : nullptr);
  return {encoder_ln_.forward(x), mask};
}

Tensor Seq2Seq::embed_target(const std::vector<int64_t>& ids, int64_t batch, int64_t len,
                             int64_t start) const {
  MMX_CHECK(start + len <= config_.max_target_len, "Seq2Seq: target positions [", start, ", ",
            start + len, ") exceed max_target_len ", config_.max_target_len);
  Tensor x = tgt_tok_.forward(ids, {batch, len}) + slice(tgt_pos_, 0, start, start + len);
  return embedding_dropout_.forward(x);
}

Tensor Seq2Seq::forward(const std::vector<int64_t>& source, int64_t source_len,
                        const std::vector<int64_t>& target_in, int64_t target_len, int64_t batch,
                        Seq2SeqAttentionMaps* capture) const {
  check_ids("target", target_in, batch, target_len, config_.max_target_len);
  const EncodedSource encoded =
      encode(source, batch, source_len, capture ? &capture->encoder : nullptr);
  Tensor x = embed_target(target_in, batch, target_len, 0);
  if (capture) {
    capture->decoder.assign(decoder_.size(), AttentionMap());
    capture->cross.assign(decoder_.size(), AttentionMap());
  }
  for (size_t l = 0; l < decoder_.size(); ++l)
    x = decoder_[l].forward(x, encoded.memory, encoded.mask,
                            capture ? &capture->decoder[l] : nullptr,
                            capture ? &capture->cross[l] : nullptr);
  if (capture) {
    // The layers saw key masks only; the measures must also skip padded queries' rows.
    NoGrad no_grad;
    const Tensor target_rows = as_query_rows(padding_mask(target_in, batch, target_len));
    const Tensor source_rows = as_query_rows(encoded.mask);
    for (AttentionMap& map : capture->encoder) map.mask = encoded.mask + source_rows;
    for (AttentionMap& map : capture->decoder) map.mask = target_rows;
    for (AttentionMap& map : capture->cross) map.mask = encoded.mask + target_rows;
  }
  return head(x);
}

Tensor Seq2Seq::head(const Tensor& x) const {
  Tensor logits = head_.forward(decoder_ln_.forward(x));
  return head_multimax_ ? head_multimax_->modulate(logits) : logits;
}

Tensor Seq2Seq::loss(const std::vector<int64_t>& source, int64_t source_len,
                     const std::vector<int64_t>& target_in, const std::vector<int64_t>& target_out,
                     int64_t target_len, int64_t batch, Seq2SeqAttentionMaps* capture) const {
  MMX_CHECK(target_out.size() == target_in.size(), "Seq2Seq::loss: ", target_out.size(),
            " targets for ", target_in.size(), " decoder inputs");
  return cross_entropy(forward(source, source_len, target_in, target_len, batch, capture),
                       target_out, kPadId);
}

DecoderMemory Seq2Seq::decoder_memory(const std::vector<int64_t>& source, int64_t batch,
                                      int64_t source_len) const {
  NoGrad no_grad;
  DecoderMemory out;
  const EncodedSource encoded = encode(source, batch, source_len);
  for (const auto& layer : decoder_) out.kv.push_back(layer->memory_key_values(encoded.memory));
  out.mask = encoded.mask;
  return out;
}

DecoderState Seq2Seq::start_decoding(const std::vector<int64_t>& source, int64_t batch,
                                     int64_t source_len) const {
  DecoderMemory memory = decoder_memory(source, batch, source_len);
  DecoderState state;
  state.memory_kv = std::move(memory.kv);
  state.memory_mask = memory.mask;
  state.self_cache = KVCache(config_.decoder_layers, batch, config_.heads, config_.max_target_len,
                             config_.head_dim());
  return state;
}

Tensor Seq2Seq::decode_step(const std::vector<int64_t>& tokens, DecoderState& state) const {
  NoGrad no_grad;
  const int64_t batch = state.self_cache.batch(), position = state.self_cache.length;
  MMX_CHECK(static_cast<int64_t>(tokens.size()) == batch &&
                static_cast<int64_t>(state.memory_kv.size()) == config_.decoder_layers,
            "Seq2Seq::decode_step: ", tokens.size(), " tokens for a state of batch ", batch,
            " and ", state.memory_kv.size(), " layers");
  Tensor x = embed_target(tokens, batch, 1, position);
  for (size_t l = 0; l < decoder_.size(); ++l)
    x = decoder_[l].forward_step(x, state.self_cache.keys[l], state.self_cache.values[l], position,
                                 state.memory_kv[l], state.memory_mask);
  state.self_cache.length += 1;
  return reshape(head(x), {batch, config_.vocab});
}

void select_rows(DecoderState& state, const std::vector<int64_t>& rows) {
  NoGrad no_grad;
  MMX_CHECK(!rows.empty(), "select_rows: no rows");
  for (KeyValues& kv : state.memory_kv) {
    kv.keys = gather_rows(kv.keys, rows);
    kv.values = gather_rows(kv.values, rows);
  }
  state.memory_mask = gather_rows(state.memory_mask, rows);
  for (Tensor& keys : state.self_cache.keys) keys = gather_rows(keys, rows);
  for (Tensor& values : state.self_cache.values) values = gather_rows(values, rows);
}

}  // namespace mmx::nn
