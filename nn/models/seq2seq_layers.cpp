#include "nn/models/seq2seq_layers.hpp"

#include "engine/ops.hpp"

namespace mmx::nn {

EncoderLayer::EncoderLayer(const Seq2SeqConfig& config, Generator& init_gen, Generator& dropout_gen)
    : ln1_(config.d_model),
      self_attn_(config.attention_options(config.encoder_attention, /*causal=*/false), init_gen,
                 dropout_gen),
      ln2_(config.d_model),
      mlp_(config.d_model, config.dropout, init_gen, dropout_gen) {
  register_module("ln1", ln1_);
  register_module("self_attn", self_attn_);
  register_module("ln2", ln2_);
  register_module("mlp", mlp_);
}

Tensor EncoderLayer::forward(const Tensor& x, const Tensor& key_mask, AttentionMap* capture) const {
  Tensor normed = ln1_.forward(x);
  Tensor h = x + self_attn_.forward(normed, normed, key_mask, capture);
  Tensor out = h + mlp_.forward(ln2_.forward(h));
  if (capture) capture->block_output = out.detach();
  return out;
}

DecoderLayer::DecoderLayer(const Seq2SeqConfig& config, Generator& init_gen, Generator& dropout_gen)
    : ln1_(config.d_model),
      self_attn_(config.attention_options(config.decoder_attention, /*causal=*/true), init_gen,
                 dropout_gen),
      ln2_(config.d_model),
      cross_attn_(config.attention_options(config.cross_attention, /*causal=*/false), init_gen,
                  dropout_gen),
      ln3_(config.d_model),
      mlp_(config.d_model, config.dropout, init_gen, dropout_gen) {
  register_module("ln1", ln1_);
  register_module("self_attn", self_attn_);
  register_module("ln2", ln2_);
  register_module("cross_attn", cross_attn_);
  register_module("ln3", ln3_);
  register_module("mlp", mlp_);
}

Tensor DecoderLayer::forward(const Tensor& x, const Tensor& memory, const Tensor& memory_mask,
                             AttentionMap* self_capture, AttentionMap* cross_capture) const {
  Tensor normed = ln1_.forward(x);
  // Padded target positions sit after EOS: causal masking already hides them from real ones.
  Tensor h = x + self_attn_.forward(normed, normed, Tensor(), self_capture);
  h = h + cross_attn_.forward(ln2_.forward(h), memory, memory_mask, cross_capture);
  Tensor out = h + mlp_.forward(ln3_.forward(h));
  if (self_capture) self_capture->block_output = out.detach();
  return out;
}

Tensor DecoderLayer::forward_step(const Tensor& x, Tensor& keys, Tensor& values, int64_t position,
                                  const KeyValues& memory_kv, const Tensor& memory_mask) const {
  Tensor h = x + self_attn_.forward_cached(ln1_.forward(x), keys, values, position);
  h = h + cross_attn_.forward_with(ln2_.forward(h), memory_kv, memory_mask);
  return h + mlp_.forward(ln3_.forward(h));
}

KeyValues DecoderLayer::memory_key_values(const Tensor& memory) const {
  return cross_attn_.project_key_values(memory);
}

}  // namespace mmx::nn
