#include "nn/layers/block.hpp"

#include "engine/ops.hpp"

namespace mmx::nn {

Block::Block(const AttentionOptions& attention, Generator& init_gen, Generator& dropout_gen)
    : ln1_(attention.d_model),
      attn_(attention, init_gen, dropout_gen),
      ln2_(attention.d_model),
      mlp_(attention.d_model, attention.dropout, init_gen, dropout_gen) {
  register_module("ln1", ln1_);
  register_module("attn", attn_);
  register_module("ln2", ln2_);
  register_module("mlp", mlp_);
}

Tensor Block::forward(const Tensor& x, AttentionMap* capture) const {
  Tensor h = x + attn_.forward(ln1_.forward(x), capture);
  Tensor out = h + mlp_.forward(ln2_.forward(h));
  if (capture) capture->block_output = out.detach();
  return out;
}

Tensor Block::forward_cached(const Tensor& x, Tensor& keys, Tensor& values, int64_t start) const {
  Tensor h = x + attn_.forward_cached(ln1_.forward(x), keys, values, start);
  return h + mlp_.forward(ln2_.forward(h));
}

}  // namespace mmx::nn
