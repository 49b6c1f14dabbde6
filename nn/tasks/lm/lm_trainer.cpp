#include "nn/tasks/lm/lm_trainer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/error.hpp"
#include "nn/data/checkpoint.hpp"
#include "nn/data/text_corpus.hpp"
#include "nn/distributed/data_parallel.hpp"
#include "nn/tasks/options_json.hpp"
#include "nn/tasks/task_table.hpp"

namespace mmx::nn {

// ---------------------------------------------------------------- options

void TrainOptions::validate() const {
  model.validate();
  OptimOptions::validate();
  MMX_CHECK(eval_batch >= 1, "train: `eval_batch` must be at least 1, got ", eval_batch);
}

void to_json(nlohmann::json& j, const TrainOptions& o) {
  j = {{"model", o.model}, {"eval_batch", o.eval_batch}};
  to_json(j, static_cast<const OptimOptions&>(o));
}

void from_json(const nlohmann::json& j, TrainOptions& o) {
  from_json(j, static_cast<OptimOptions&>(o));
  o.model = j.at("model").get<GPTConfig>();
  j.at("eval_batch").get_to(o.eval_batch);
}

// ---------------------------------------------------------------- set-up

namespace {
data::TextCorpus read_corpus(const std::string& path) {
  return path.empty() ? data::load_default_corpus() : data::load_text_corpus(path);
}

// The model's tables with one row per token id.
constexpr std::initializer_list<const char*> kVocabTables = {"tok.weight", "head.weight"};

TrainOptions with_vocab(TrainOptions o, int64_t vocab) {
  o.model.vocab = vocab;
  return o;
}
}  // namespace

LMTrainer::LMTrainer(const TrainOptions& options, EncodedCorpus corpus)
    : Trainer(options),
      options_(with_vocab(options, corpus.tokenizer.vocab_size())),
      tokenizer_(std::move(corpus.tokenizer)),
      dataset_(std::move(corpus.ids)),
      data_gen_(options_.seed ^ 0x5EED'DA7Aull) {
  options_.validate();
  distributed::rank_rows(options_.batch, distributed::world());  // refuses a batch N cannot split
  model_ = std::make_unique<GPT>(options_.model, options_.seed);
  start_training();
}

LMTrainer::EncodedCorpus LMTrainer::encode_corpus(const std::string& path,
                                                  const data::CharTokenizer* vocab) {
  const data::TextCorpus corpus = read_corpus(path);
  if (corpus.replaced > 0 && distributed::world().is_main())
    std::fprintf(stderr, "corpus: %s: %ld invalid UTF-8 byte sequences replaced by U+FFFD\n",
                 path.empty() ? data::kDefaultCorpusDir : path.c_str(),
                 static_cast<long>(corpus.replaced));
  data::CharTokenizer tokenizer = vocab ? *vocab : data::CharTokenizer::from_text(corpus.text);
  std::vector<int64_t> ids = tokenizer.encode(corpus.text);
  return {std::move(tokenizer), std::move(ids)};
}

LMTrainer::LMTrainer(const TrainOptions& options)
    : LMTrainer(options, encode_corpus(options.data, nullptr)) {}

// ---------------------------------------------------------------- training

Tensor LMTrainer::batch_loss() {
  // Data-parallel: this rank's share of the global batch (all of it on a single process).
  distributed::Communicator& comm = distributed::world();
  const distributed::RankRows share = distributed::rank_rows(options_.batch, comm);
  const data::TokenBatch b =
      dataset_.sample(data::Split::train, options_.batch, options_.model.seq_len, data_gen_,
                      share.begin, share.count);
  const distributed::RankDropoutStream dropout(model_->dropout_generator(), comm);
  return model_->loss(b.inputs, b.targets, b.batch, b.seq);
}

data::TokenBatch LMTrainer::validation_batch() const {
  const int64_t rows = std::min<int64_t>(
      options_.eval_batch, std::max<int64_t>(1, std::ssize(dataset_.tokens(data::Split::val)) /
                                                    (options_.model.seq_len + 1)));
  return dataset_.fixed_batch(data::Split::val, rows, options_.model.seq_len);
}

void LMTrainer::validate(EvalRecord& r) {
  const data::TokenBatch v = validation_batch();
  r.val_loss = model_->loss(v.inputs, v.targets, v.batch, v.seq).item();
  r.add_attention("", model_->attention_maps(v.inputs, v.batch, v.seq));
}

std::vector<NamedAttentionMap> LMTrainer::validation_attention_maps() {
  const data::TokenBatch v = validation_batch();
  std::vector<NamedAttentionMap> out;
  append_named(out, "", model_->attention_maps(v.inputs, v.batch, v.seq));
  return out;
}

std::vector<TaskMetric> LMTrainer::test_scores(const TestOptions&) {
  // Evenly spaced windows covering the split (capped, so memory stays small).
  constexpr int64_t kMaxWindows = 128;
  const int64_t rows = std::clamp<int64_t>(
      std::ssize(dataset_.tokens(data::Split::val)) / (options_.model.seq_len + 1), 1, kMaxWindows);
  const data::TokenBatch v = dataset_.fixed_batch(data::Split::val, rows, options_.model.seq_len);
  return {{"val_loss", model_->loss(v.inputs, v.targets, v.batch, v.seq).item()}};
}

std::string LMTrainer::attention_name() const {
  return attention_kind_name(options_.model.attention.kind);
}

std::string LMTrainer::describe() const {
  return cat("model: ", model_->parameter_count(), " parameters, ", attention_name(),
             " attention, vocab ", options_.model.vocab, ", ", options_.model.layers,
             " layers x d ", options_.model.d_model,
             options_.model.multimax_logits ? ", MultiMax output logits" : "",
             options_.precision == "bf16" ? ", bf16 matmuls" : "");
}

// ---------------------------------------------------------------- checkpoints

nlohmann::json LMTrainer::checkpoint_metadata() const {
  return {{"config", options_.model},
          {"vocab", tokenizer_.to_json()},
          {"rng",
           {{"data", data::generator_state_to_json(data_gen_.state())},
            {"dropout", data::generator_state_to_json(model_->dropout_generator().state())}}}};
}

std::unique_ptr<LMTrainer> LMTrainer::resume(const std::filesystem::path& dir) {
  return resume(data::load_checkpoint(dir), dir);
}

std::unique_ptr<LMTrainer> LMTrainer::resume(const data::Checkpoint& c,
                                             const std::filesystem::path& dir) {
  MMX_CHECK(checkpoint_task(c.model_metadata) == "lm", "train: ", dir.string(), " holds a '",
            checkpoint_task(c.model_metadata), "' run, not a language model");
  const auto options = saved_options<TrainOptions>(c.model_metadata, dir);
  const auto tokenizer = saved_tokenizer(c, dir, kVocabTables);
  std::unique_ptr<LMTrainer> t(new LMTrainer(options, encode_corpus(options.data, &tokenizer)));
  t->model_->load_state_dict(c.model);
  t->restore_training(c, dir);
  const auto rng = checkpoint_field<nlohmann::json>(c.model_metadata, "rng", dir);
  t->data_gen_.set_state(data::generator_state_from_json(rng.at("data")));
  t->model_->dropout_generator().set_state(data::generator_state_from_json(rng.at("dropout")));
  return t;
}

LoadedModel load_model(const std::filesystem::path& dir) {
  const data::Checkpoint c = data::load_checkpoint(dir);
  MMX_CHECK(checkpoint_task(c.model_metadata) == "lm", "load_model: ", dir.string(), " holds a '",
            checkpoint_task(c.model_metadata), "' run, not a language model");
  const auto config = checkpoint_field<GPTConfig>(c.model_metadata, "config", dir);
  LoadedModel m{std::make_unique<GPT>(config), saved_tokenizer(c, dir, kVocabTables), c.step};
  m.model->load_state_dict(c.model);
  m.model->eval();
  return m;
}

// ---------------------------------------------------------------- the task table's row

const TaskEntry& lm_task() {
  static const TaskEntry entry{
      "lm",
      [] { return nlohmann::json(TrainOptions{}); },
      [](const nlohmann::json& options) -> std::unique_ptr<Trainer> {
        return std::make_unique<LMTrainer>(parse_options<TrainOptions>(options, "lm options"));
      },
      [](const data::Checkpoint& c, const std::filesystem::path& dir) -> std::unique_ptr<Trainer> {
        return LMTrainer::resume(c, dir);
      },
      {"/model/attention"},
      /*data_parallel=*/true};
  return entry;
}

}  // namespace mmx::nn
