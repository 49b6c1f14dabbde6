/// \file
/// GPT: a decoder-only transformer over token ids, shaped like the PyTorch reference
/// (bench/torch_reference.py): token embedding "tok" + learned positions "pos",
/// pre-LN blocks "blocks.i", final LayerNorm "ln", bias-free head "head", and optionally
/// MultiMax on the output logits ("head_multimax").
#pragma once

#include <memory>
#include <vector>

#include "nn/layers/block.hpp"
#include "nn/layers/embedding.hpp"
#include "nn/models/gpt_config.hpp"
#include "nn/models/kv_cache.hpp"
#include "nn/module_list.hpp"

namespace mmx::nn {

/// A decoder-only transformer language model (see the file comment).
class GPT : public Module {
 public:
  /// `seed` drives the initial weights; dropout draws from its own generator, seeded from it.
  explicit GPT(const GPTConfig& config, uint64_t seed = 0);

  /// The configuration it was built from.
  const GPTConfig& config() const { return config_; }

  /// ids: batch x seq token ids, row-major -> logits [batch, seq, vocab]. With MultiMax on the
  /// logits these are the modulated logits, so softmax(logits) is MultiMax of the head's output.
  /// `attention`, when given, receives each layer's scores and weights [batch, heads, seq, seq].
  Tensor forward(const std::vector<int64_t>& ids, int64_t batch, int64_t seq,
                 std::vector<AttentionMap>* attention = nullptr) const;
  /// Mean next-token cross-entropy; targets laid out like ids.
  Tensor loss(const std::vector<int64_t>& ids, const std::vector<int64_t>& targets, int64_t batch,
              int64_t seq) const;
  /// Per-layer attention scores and weights [batch, heads, seq, seq], without autograd.
  std::vector<AttentionMap> attention_maps(const std::vector<int64_t>& ids, int64_t batch,
                                           int64_t seq) const;

  // --- incremental decoding (inference, no autograd; call eval() first or dropout applies) ---
  KVCache make_cache(int64_t batch) const;  ///< room for config().seq_len positions
  /// ids: batch x n new tokens at positions [cache.length, cache.length + n) -> logits
  /// [batch, n, vocab]; the same numbers as forward() on the whole prefix. Advances the cache.
  Tensor forward_incremental(const std::vector<int64_t>& ids, int64_t batch, KVCache& cache) const;

  /// The dropout stream, for checkpoints that resume bit for bit.
  Generator& dropout_generator() { return dropout_gen_; }

 private:
  Tensor embed(const std::vector<int64_t>& ids, int64_t batch, int64_t seq, int64_t start) const;
  Tensor head(const Tensor& x) const;

  GPTConfig config_;
  Generator init_gen_;  ///< declared before the layers: they draw from it as they are built
  Generator dropout_gen_;
  Embedding tok_;
  Tensor pos_;  ///< [seq_len, d_model]
  Dropout embedding_dropout_;
  ModuleList<Block> blocks_;
  LayerNorm ln_;
  Linear head_;
  std::unique_ptr<MultiMaxParameters> head_multimax_;
};

}  // namespace mmx::nn
