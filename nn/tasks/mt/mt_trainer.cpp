#include "nn/tasks/mt/mt_trainer.hpp"

#include <algorithm>
#include <cmath>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "nn/metrics/chrf.hpp"
#include "nn/tasks/mt/translator.hpp"
#include "nn/tasks/options_json.hpp"
#include "nn/tasks/task_table.hpp"

namespace mmx::nn {

// ---------------------------------------------------------------- options

void MTOptions::validate() const {
  OptimOptions::validate();
  MMX_CHECK(eval_pairs >= 1, "train: `eval_pairs` (valid pairs) must be at least 1, got ",
            eval_pairs);
  MMX_CHECK(max_chars >= 1, "train: `max_chars` must be at least 1, got ", max_chars);
  model.validate();
}

void to_json(nlohmann::json& j, const MTOptions& o) {
  j = {{"model", o.model}, {"eval_pairs", o.eval_pairs}, {"max_chars", o.max_chars}};
  to_json(j, static_cast<const OptimOptions&>(o));
}

void from_json(const nlohmann::json& j, MTOptions& o) {
  from_json(j, static_cast<OptimOptions&>(o));
  o.model = j.at("model").get<Seq2SeqConfig>();
  j.at("eval_pairs").get_to(o.eval_pairs);
  j.at("max_chars").get_to(o.max_chars);
}

// ---------------------------------------------------------------- set-up

namespace {
data::PhrasePairSplits load_pairs(const MTOptions& o) {
  data::PhrasePairOptions p;
  p.max_chars = o.max_chars;
  data::PhrasePairSplits splits =
      data::load_phrase_pairs(o.data.empty() ? data::kDebianDeEnPath : o.data, p);
  const std::string path = o.data.empty() ? data::kDebianDeEnPath : o.data;
  MMX_CHECK(!splits.train.empty() && !splits.valid.empty() && !splits.test.empty(), "train: ", path,
            " gave ", splits.train.size(), " train / ", splits.valid.size(), " valid / ",
            splits.test.size(), " test phrase pairs; every split needs at least one");
  return splits;
}

TranslationVocab vocab_of(const data::PhrasePairSplits& s) {
  std::vector<data::PhrasePair> all = s.train;
  all.insert(all.end(), s.valid.begin(), s.valid.end());
  all.insert(all.end(), s.test.begin(), s.test.end());
  return TranslationVocab::from_pairs(all);
}

// The model's table sizes come from the data, as the LM's vocabulary comes from its corpus.
MTOptions with_data(MTOptions o, const data::PhrasePairSplits& pairs,
                    const TranslationVocab& vocab) {
  o.model.vocab = vocab.size();
  o.model.max_source_len = o.max_chars;
  o.model.max_target_len = o.max_chars + 1;  // BOS + text, or text + EOS
  o.validate();
  MMX_CHECK(o.batch <= std::ssize(pairs.train), "train: `batch` ", o.batch, " exceeds the ",
            pairs.train.size(), " training pairs");
  return o;
}

uint64_t batches_seed(uint64_t seed) {
  return seed ^ 0x7A45'0F5Eull;
}

std::vector<data::PhrasePair> first(const std::vector<data::PhrasePair>& pairs, int64_t n) {
  return {pairs.begin(), pairs.begin() + std::min<int64_t>(n, std::ssize(pairs))};
}

// Greedy (beam <= 1) or beam-search translations of every source, in order.
std::vector<std::string> translate_sources(const Seq2Seq& model, const TranslationVocab& vocab,
                                           const std::vector<data::PhrasePair>& pairs,
                                           int64_t beam) {
  constexpr int64_t kGreedyChunk = 256;  // rows decoded together
  std::vector<std::string> out;
  out.reserve(pairs.size());
  for (size_t start = 0; start < pairs.size(); start += kGreedyChunk) {
    const size_t end = std::min(pairs.size(), start + kGreedyChunk);
    std::vector<std::vector<int64_t>> sources;
    for (size_t i = start; i < end; ++i) sources.push_back(vocab.encode(pairs[i].source));
    if (beam <= 1) {
      for (const std::vector<int64_t>& ids : greedy_decode(model, sources))
        out.push_back(vocab.decode(ids));
    } else {
      for (const std::vector<int64_t>& source : sources)
        out.push_back(vocab.decode(beam_search(model, source, {.beam_size = beam})));
    }
  }
  return out;
}

std::vector<std::string> targets_of(const std::vector<data::PhrasePair>& pairs) {
  std::vector<std::string> out;
  for (const data::PhrasePair& p : pairs) out.push_back(p.target);
  return out;
}
}  // namespace

MTTrainer::MTTrainer(const MTOptions& options, data::PhrasePairSplits pairs, TranslationVocab vocab)
    : Trainer(options),
      options_(with_data(options, pairs, vocab)),
      pairs_(std::move(pairs)),
      vocab_(std::move(vocab)),
      batches_(std::ssize(pairs_.train), options_.batch, batches_seed(options_.seed)) {
  model_ = std::make_unique<Seq2Seq>(options_.model, options_.seed);
  start_training();
}

MTTrainer::MTTrainer(const MTOptions& options) : MTTrainer(options, load_pairs(options)) {}

MTTrainer::MTTrainer(const MTOptions& options, data::PhrasePairSplits pairs)
    : MTTrainer(options, pairs, vocab_of(pairs)) {}

// ---------------------------------------------------------------- training

Tensor MTTrainer::batch_loss() {
  std::vector<data::PhrasePair> chosen;
  for (int64_t i : batches_.next()) chosen.push_back(pairs_.train[static_cast<size_t>(i)]);
  const Seq2SeqBatch b = make_batch(vocab_, chosen);
  return model_->loss(b.source, b.source_len, b.target_in, b.target_out, b.target_len, b.batch);
}

void MTTrainer::validate(EvalRecord& r) {
  const std::vector<data::PhrasePair> slice = first(pairs_.valid, options_.eval_pairs);
  const Seq2SeqBatch b = make_batch(vocab_, slice);
  Seq2SeqAttentionMaps maps;
  r.val_loss =
      model_->loss(b.source, b.source_len, b.target_in, b.target_out, b.target_len, b.batch, &maps)
          .item();
  r.add_attention("enc.", maps.encoder);
  r.add_attention("dec.", maps.decoder);
  r.add_attention("cross.", maps.cross);
  r.metric = TaskMetric{"chrF", metrics::corpus_chrf(translate_sources(*model_, vocab_, slice, 1),
                                                     targets_of(slice))};
}

std::vector<NamedAttentionMap> MTTrainer::validation_attention_maps() {
  const Seq2SeqBatch b = make_batch(vocab_, first(pairs_.valid, options_.eval_pairs));
  Seq2SeqAttentionMaps maps;
  model_->loss(b.source, b.source_len, b.target_in, b.target_out, b.target_len, b.batch, &maps);
  std::vector<NamedAttentionMap> out;
  append_named(out, "enc.", maps.encoder);
  append_named(out, "dec.", maps.decoder);
  append_named(out, "cross.", maps.cross);
  return out;
}

std::vector<TaskMetric> MTTrainer::test_scores(const TestOptions& options) {
  std::vector<TaskMetric> out;
  const std::vector<data::PhrasePair> pairs =
      options.limit > 0 ? first(pairs_.test, options.limit) : pairs_.test;
  const std::vector<std::string> references = targets_of(pairs);
  std::vector<int64_t> beams = {1};
  if (options.beam > 1) beams.push_back(options.beam);
  for (int64_t beam : beams) {
    const std::vector<std::string> hypotheses = translate_sources(*model_, vocab_, pairs, beam);
    const std::string suffix = beam > 1 ? cat("_beam", beam) : "";
    out.push_back({"chrF" + suffix, metrics::corpus_chrf(hypotheses, references)});
    out.push_back({"exact_match" + suffix, 100.0 * metrics::exact_match(hypotheses, references)});
  }
  return out;
}

std::string MTTrainer::attention_name() const {
  const Seq2SeqConfig& m = options_.model;
  if (m.encoder_attention.kind == m.decoder_attention.kind &&
      m.decoder_attention.kind == m.cross_attention.kind)
    return attention_kind_name(m.encoder_attention.kind);
  return cat("enc-", attention_kind_name(m.encoder_attention.kind), "_dec-",
             attention_kind_name(m.decoder_attention.kind), "_cross-",
             attention_kind_name(m.cross_attention.kind));
}

std::string MTTrainer::describe() const {
  const Seq2SeqConfig& m = options_.model;
  return cat("model: ", model_->parameter_count(), " parameters, attention encoder ",
             attention_kind_name(m.encoder_attention.kind), " / decoder ",
             attention_kind_name(m.decoder_attention.kind), " / cross ",
             attention_kind_name(m.cross_attention.kind), ", ", m.encoder_layers, "+",
             m.decoder_layers, " layers x d ", m.d_model,
             m.multimax_logits ? ", MultiMax output logits" : "", ", vocab ", m.vocab,
             "; phrase pairs ", pairs_.train.size(), " train / ", pairs_.valid.size(), " valid / ",
             pairs_.test.size(), " test (<= ", options_.max_chars, " chars)",
             options_.precision == "bf16" ? "; bf16 matmuls" : "");
}

// ---------------------------------------------------------------- checkpoints

nlohmann::json MTTrainer::checkpoint_metadata() const {
  return {{"config", options_.model},
          {"vocab", vocab_.chars().to_json()},
          {"rng", shuffled_rng_json(batches_, model_->dropout_generator())}};
}

namespace {
TranslationVocab saved_vocab(const data::Checkpoint& c, const std::filesystem::path& dir) {
  return TranslationVocab(
      saved_tokenizer(c, dir, {"src_tok.weight", "tgt_tok.weight", "head.weight"}, kFirstCharId));
}
}  // namespace

std::unique_ptr<MTTrainer> MTTrainer::resume(const data::Checkpoint& c,
                                             const std::filesystem::path& dir) {
  const auto options = saved_options<MTOptions>(c.model_metadata, dir);
  std::unique_ptr<MTTrainer> t(new MTTrainer(options, load_pairs(options), saved_vocab(c, dir)));
  t->model_->load_state_dict(c.model);
  t->restore_training(c, dir);
  restore_shuffled_rng(c, dir, t->batches_, t->model_->dropout_generator());
  return t;
}

LoadedTranslator load_translator(const std::filesystem::path& dir) {
  const data::Checkpoint c = data::load_checkpoint(dir);
  MMX_CHECK(checkpoint_task(c.model_metadata) == "mt", "translate: ", dir.string(), " holds a '",
            checkpoint_task(c.model_metadata),
            "' run, not a translator (train one with "
            "mmx train --task mt)");
  const auto config = checkpoint_field<Seq2SeqConfig>(c.model_metadata, "config", dir);
  LoadedTranslator t{std::make_unique<Seq2Seq>(config), saved_vocab(c, dir), c.step};
  t.model->load_state_dict(c.model);
  t.model->eval();
  return t;
}

std::string translate(const LoadedTranslator& translator, std::string_view text, int64_t beam) {
  const std::vector<int64_t> source = translator.vocab.encode(text);
  MMX_CHECK(!source.empty(), "translate: the text is empty");
  NoGrad no_grad;
  if (beam <= 1) return translator.vocab.decode(greedy_decode(*translator.model, {source})[0]);
  return translator.vocab.decode(beam_search(*translator.model, source, {.beam_size = beam}));
}

// ---------------------------------------------------------------- the task table's row

const TaskEntry& mt_task() {
  static const TaskEntry entry{
      "mt",
      [] { return nlohmann::json(MTOptions{}); },
      [](const nlohmann::json& options) -> std::unique_ptr<Trainer> {
        return std::make_unique<MTTrainer>(parse_options<MTOptions>(options, "mt options"));
      },
      [](const data::Checkpoint& c, const std::filesystem::path& dir) -> std::unique_ptr<Trainer> {
        return MTTrainer::resume(c, dir);
      },
      {"/model/encoder_attention", "/model/decoder_attention", "/model/cross_attention"},
      /*data_parallel=*/false};
  return entry;
}

}  // namespace mmx::nn
