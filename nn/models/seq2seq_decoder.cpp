#include "nn/models/seq2seq_decoder.hpp"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>

#include "engine/error.hpp"
#include "engine/ops.hpp"
#include "engine/parallel_region.hpp"
#include "nn/layers/normalizers.hpp"

namespace mmx::nn {

namespace {

bool row_decodable(AttentionKind kind) {
  return kind == AttentionKind::Softmax || kind == AttentionKind::MultiMax;
}

// The checked configuration: the members after it are built from it.
const Seq2SeqConfig& decodable(const Seq2Seq& model) {
  const Seq2SeqConfig& c = model.config();
  MMX_CHECK(Seq2SeqDecoder::supports(c),
            "Seq2SeqDecoder: decodes SoftMax and MultiMax attention, not encoder ",
            attention_kind_name(c.encoder_attention.kind), " / decoder ",
            attention_kind_name(c.decoder_attention.kind), " / cross ",
            attention_kind_name(c.cross_attention.kind));
  MMX_CHECK(!model.is_training(),
            "Seq2SeqDecoder: the model is in training mode (dropout would apply); call eval() "
            "first");
  return c;
}

// Rows [0, length) of every head of `from` [heads, capacity, dh] into `to`, alike.
void copy_positions(const Tensor& from, Tensor& to, int64_t length) {
  const int64_t heads = from.size(0), capacity = from.size(1), dh = from.size(2);
  for (int64_t h = 0; h < heads; ++h)
    std::memcpy(to.data() + h * capacity * dh, from.data() + h * capacity * dh,
                static_cast<size_t>(length * dh) * sizeof(float));
}

}  // namespace

bool Seq2SeqDecoder::supports(const Seq2SeqConfig& config) {
  return row_decodable(config.encoder_attention.kind) &&
         row_decodable(config.decoder_attention.kind) && row_decodable(config.cross_attention.kind);
}

Seq2SeqDecoder::Seq2SeqDecoder(const Seq2Seq& model)
    : Seq2SeqDecoder(model, ParameterViews(model.named_parameters(), "Seq2SeqDecoder")) {}

Seq2SeqDecoder::Seq2SeqDecoder(const Seq2Seq& model, const ParameterViews& p)
    : model_(model),
      config_(decodable(model)),
      tok_(p("tgt_tok.weight")),
      pos_(p("tgt_pos")),
      head_(p, "decoder_ln", "head", config_.multimax_logits,
            config_.encoder_attention.multimax_order) {
  const int order = config_.encoder_attention.multimax_order;
  for (int64_t l = 0; l < config_.decoder_layers; ++l) {
    const std::string block = cat("decoder.", l, ".");
    const auto where = [&](const char* ln, const char* attention, const AttentionConfig& a) {
      return AttentionParameters{.block = block,
                                 .layer_norm = ln,
                                 .attention = attention,
                                 .fused = false,
                                 .multimax = a.kind == AttentionKind::MultiMax,
                                 .order = order};
    };
    layers_.push_back(
        {.self_attention = AttentionHalf(p, where("ln1", "self_attn", config_.decoder_attention)),
         .cross_attention = AttentionHalf(p, where("ln2", "cross_attn", config_.cross_attention)),
         .mlp = MlpHalf(p, block, "ln3")});
  }
}

Seq2SeqDecoder::Row Seq2SeqDecoder::empty_row() const {
  Row row;
  const Shape shape = {config_.heads, config_.max_target_len, config_.head_dim()};
  for (int64_t l = 0; l < config_.decoder_layers; ++l) {
    row.keys.push_back(Tensor::zeros(shape));
    row.values.push_back(Tensor::zeros(shape));
  }
  return row;
}

void Seq2SeqDecoder::start(const std::vector<int64_t>& source, int64_t batch, int64_t source_len) {
  const DecoderMemory memory = model_.decoder_memory(source, batch, source_len);
  sources_.clear();
  for (int64_t b = 0; b < batch; ++b) {
    // Keys past the last real one are padding: cut them rather than mask them every step.
    const int64_t* ids = source.data() + b * source_len;
    int64_t length = source_len;
    while (length > 0 && ids[length - 1] == kPadId) --length;
    MMX_CHECK(length > 0, "Seq2SeqDecoder: source row ", b, " is padding alone");
    const auto own = [&](const Tensor& t) {  // [B, H, S, dh] -> this source's [H, length, dh]
      return slice(slice(t, 0, b, b + 1), 2, 0, length)
          .contiguous()
          .reshape({config_.heads, length, config_.head_dim()});
    };
    Source s;
    for (const KeyValues& kv : memory.kv) {
      s.keys.push_back(own(kv.keys));
      s.values.push_back(own(kv.values));
    }
    s.key_mask =
        slice(slice(memory.mask, 0, b, b + 1), 3, 0, length).contiguous().reshape({length});
    sources_.push_back(std::move(s));
  }
  while (rows() < batch) rows_.push_back(empty_row());
  rows_.resize(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) rows_[b].source = b;
  length_ = 0;
}

void Seq2SeqDecoder::select_rows(const std::vector<int64_t>& rows) {
  MMX_CHECK(!rows.empty(), "Seq2SeqDecoder::select_rows: no rows");
  while (spare_.size() < rows.size()) spare_.push_back(empty_row());
  for (size_t i = 0; i < rows.size(); ++i) {
    MMX_CHECK(rows[i] >= 0 && rows[i] < this->rows(), "Seq2SeqDecoder::select_rows: row ", rows[i],
              " outside ", this->rows(), " rows");
    const Row& from = rows_[rows[i]];
    Row& to = spare_[i];
    to.source = from.source;
    for (int64_t l = 0; l < config_.decoder_layers; ++l) {
      copy_positions(from.keys[l], to.keys[l], length_);
      copy_positions(from.values[l], to.values[l], length_);
    }
  }
  // The rows no longer needed stay in spare_, their buffers ready for the next call.
  std::swap(rows_, spare_);
  const auto kept = static_cast<std::ptrdiff_t>(rows.size());
  std::move(rows_.begin() + kept, rows_.end(), std::back_inserter(spare_));
  rows_.resize(rows.size());
}

Tensor Seq2SeqDecoder::step(const std::vector<int64_t>& tokens) {
  MMX_CHECK(!rows_.empty(), "Seq2SeqDecoder::step: call start() first");
  MMX_CHECK(static_cast<int64_t>(tokens.size()) == rows(), "Seq2SeqDecoder::step: ", tokens.size(),
            " tokens for ", rows(), " rows");
  MMX_CHECK(length_ < config_.max_target_len, "Seq2SeqDecoder::step: the target of ",
            config_.max_target_len, " positions (max_target_len) is full");
  for (int64_t token : tokens)
    MMX_CHECK(token >= 0 && token < config_.vocab, "Seq2SeqDecoder::step: token id ", token,
              " is outside the vocabulary [0, ", config_.vocab, ")");
  if (!logits_.defined() || logits_.size(0) < rows())
    logits_ = Tensor::zeros({rows(), config_.vocab});
  // The attention's scratch holds the longest of the target and the sources.
  const int64_t max_keys = std::max(config_.max_target_len, config_.max_source_len);
  while (static_cast<int>(buffers_.size()) < omp_get_max_threads())
    buffers_.emplace_back(config_.d_model, config_.heads, max_keys, config_.vocab);
  // Rows are independent: side by side on the threads, each with its own buffers (a row's
  // products then run on one thread, the same numbers as on several). One row runs its
  // kernels on one shared team instead.
  const int64_t n = rows();
  if (n == 1) {
    shared_team([&] { step_row(0, tokens[0], buffers_[0]); });
  } else {
    parallel_region(true, [&] {
#pragma omp for schedule(dynamic)
      for (int64_t r = 0; r < n; ++r) step_row(r, tokens[r], buffers_[omp_get_thread_num()]);
    });
  }
  ++length_;
  return logits_.slice(0, 0, n);
}

void Seq2SeqDecoder::step_row(int64_t r, int64_t token, RowBuffers& b) {
  const int64_t d = config_.d_model;
  Row& row = rows_[r];
  const Source& source = sources_[row.source];
  // The embedding: the token's row plus the position's row, as Seq2Seq::embed_target.
  const float* tok = tok_.data() + token * d;
  const float* pos = pos_.data() + length_ * d;
  float* x = b.x.data();
  one_thread([&] {
    for (int64_t i = 0; i < d; ++i) x[i] = tok[i] + pos[i];
  });
  for (size_t l = 0; l < layers_.size(); ++l) {
    layers_[l].self_attention.run_cached(b, row.keys[l], row.values[l], length_);
    layers_[l].cross_attention.run_memory(b, source.keys[l], source.values[l], source.key_mask);
    layers_[l].mlp.run(b);
  }
  head_.run(b);
  one_thread([&] {
    std::memcpy(logits_.data() + r * config_.vocab, b.logits.data(),
                static_cast<size_t>(config_.vocab) * sizeof(float));
  });
}

}  // namespace mmx::nn
