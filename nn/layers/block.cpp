#include "nn/layers/block.hpp"

#include "engine/ops.hpp"

namespace mmx::nn {

Block::Block(const GPTConfig& config, Generator& init_gen, Generator& dropout_gen, bool causal)
    : ln1_(config.d_model),
      attn_(config, init_gen, dropout_gen, causal),
      ln2_(config.d_model),
      mlp_(config.d_model, config.dropout, init_gen, dropout_gen) {
  register_module("ln1", ln1_);
  register_module("attn", attn_);
  register_module("ln2", ln2_);
  register_module("mlp", mlp_);
}

Tensor Block::forward(const Tensor& x, AttentionMap* capture) const {
  Tensor h = x + attn_.forward(ln1_.forward(x), capture);
  return h + mlp_.forward(ln2_.forward(h));
}

Tensor Block::forward_cached(const Tensor& x, Tensor& keys, Tensor& values, int64_t start) const {
  Tensor h = x + attn_.forward_cached(ln1_.forward(x), keys, values, start);
  return h + mlp_.forward(ln2_.forward(h));
}

}  // namespace mmx::nn
