#include "nn/models/gpt.hpp"

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/ops.hpp"
#include "nn/models/model_setup.hpp"

namespace mmx::nn {

GPT::GPT(const GPTConfig& config, uint64_t seed)
    : config_(validated(config)),
      init_gen_(seed),
      dropout_gen_(dropout_seed(seed)),
      tok_(config.vocab, config.d_model, init_gen_),
      embedding_dropout_(config.dropout, dropout_gen_),
      ln_(config.d_model),
      head_(config.d_model, config.vocab, init_gen_, /*bias=*/false) {
  register_module("tok", tok_);
  pos_ = register_parameter(
      "pos", Tensor::randn({config.seq_len, config.d_model}, init_gen_, 0.0f, 0.02f));
  register_module("embedding_dropout", embedding_dropout_);
  for (int64_t l = 0; l < config.layers; ++l)
    blocks_.push_back(std::make_unique<Block>(config.block_attention(), init_gen_, dropout_gen_));
  register_module("blocks", blocks_);
  register_module("ln", ln_);
  register_module("head", head_);
  if (config.multimax_logits) {
    head_multimax_ =
        std::make_unique<MultiMaxParameters>(0, config.attention.multimax_order, init_gen_);
    register_module("head_multimax", *head_multimax_);
  }
}

Tensor GPT::embed(const std::vector<int64_t>& ids, int64_t batch, int64_t seq,
                  int64_t start) const {
  MMX_CHECK(batch > 0 && seq > 0 && static_cast<int64_t>(ids.size()) == batch * seq,
            "GPT: ", ids.size(), " token ids for batch ", batch, " x seq ", seq);
  MMX_CHECK(start + seq <= config_.seq_len, "GPT: positions [", start, ", ", start + seq,
            ") exceed seq_len ", config_.seq_len);
  Tensor x = tok_.forward(ids, {batch, seq}) + slice(pos_, 0, start, start + seq);
  return embedding_dropout_.forward(x);
}

Tensor GPT::head(const Tensor& x) const {
  Tensor logits = head_.forward(ln_.forward(x));
  return head_multimax_ ? head_multimax_->modulate(logits) : logits;
}

Tensor GPT::forward(const std::vector<int64_t>& ids, int64_t batch, int64_t seq,
                    std::vector<AttentionMap>* attention) const {
  Tensor x = embed(ids, batch, seq, 0);
  if (attention) attention->assign(blocks_.size(), AttentionMap());
  for (size_t l = 0; l < blocks_.size(); ++l)
    x = blocks_[l].forward(x, attention ? &(*attention)[l] : nullptr);
  return head(x);
}

Tensor GPT::loss(const std::vector<int64_t>& ids, const std::vector<int64_t>& targets,
                 int64_t batch, int64_t seq) const {
  MMX_CHECK(targets.size() == ids.size(), "GPT::loss: ", targets.size(), " targets for ",
            ids.size(), " token ids");
  return cross_entropy(forward(ids, batch, seq), targets);
}

std::vector<AttentionMap> GPT::attention_maps(const std::vector<int64_t>& ids, int64_t batch,
                                              int64_t seq) const {
  NoGrad no_grad;
  std::vector<AttentionMap> attention;
  forward(ids, batch, seq, &attention);
  return attention;
}

KVCache GPT::make_cache(int64_t batch) const {
  return KVCache(config_.layers, batch, config_.heads, config_.seq_len, config_.head_dim());
}

Tensor GPT::forward_incremental(const std::vector<int64_t>& ids, int64_t batch,
                                KVCache& cache) const {
  NoGrad no_grad;
  MMX_CHECK(static_cast<int64_t>(cache.keys.size()) == config_.layers && cache.batch() == batch,
            "GPT::forward_incremental: cache built for ", cache.keys.size(), " layers, batch ",
            cache.batch(), "; the model has ", config_.layers, " layers, the input batch ", batch);
  MMX_CHECK(batch > 0 && !ids.empty() && static_cast<int64_t>(ids.size()) % batch == 0,
            "GPT::forward_incremental: ", ids.size(), " token ids for batch ", batch);
  const int64_t n = static_cast<int64_t>(ids.size()) / batch;
  Tensor x = embed(ids, batch, n, cache.length);
  for (size_t l = 0; l < blocks_.size(); ++l)
    x = blocks_[l].forward_cached(x, cache.keys[l], cache.values[l], cache.length);
  cache.length += n;
  return head(x);
}

}  // namespace mmx::nn
