// End to end: a tiny GPT trained with AdamW, warmup + cosine and clipping on a generated
// corpus (a Markov chain where each token has two equally likely successors) gets far below
// the corpus's unigram entropy, towards the chain's conditional entropy ln 2.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "engine/autograd/no_grad.hpp"
#include "nn/models/gpt.hpp"
#include "nn/optim/adamw.hpp"
#include "nn/optim/grad_clip.hpp"
#include "nn/optim/lr_schedule.hpp"

using namespace mmx;
using namespace mmx::nn;

namespace {

constexpr int64_t kVocab = 16;

std::vector<int64_t> markov_corpus(int64_t length, uint64_t seed) {
  Generator gen(seed);
  std::vector<std::array<int64_t, 2>> successors(kVocab);
  for (auto& s : successors)
    for (auto& next : s) next = static_cast<int64_t>(gen.below(kVocab));
  std::vector<int64_t> corpus{0};
  while (static_cast<int64_t>(corpus.size()) < length)
    corpus.push_back(successors[static_cast<size_t>(corpus.back())][gen.below(2)]);
  return corpus;
}

double unigram_entropy(const std::vector<int64_t>& corpus) {
  std::map<int64_t, double> counts;
  for (int64_t token : corpus) counts[token] += 1.0;
  double entropy = 0.0;
  for (const auto& [token, count] : counts) {
    const double p = count / static_cast<double>(corpus.size());
    entropy -= p * std::log(p);
  }
  return entropy;
}

// `batch` random windows of `seq` tokens and their next-token targets.
void sample_batch(const std::vector<int64_t>& corpus, int64_t batch, int64_t seq, Generator& gen,
                  std::vector<int64_t>& ids, std::vector<int64_t>& targets) {
  ids.clear();
  targets.clear();
  for (int64_t b = 0; b < batch; ++b) {
    const auto start =
        static_cast<int64_t>(gen.below(corpus.size() - static_cast<size_t>(seq) - 1));
    for (int64_t i = 0; i < seq; ++i) {
      ids.push_back(corpus[static_cast<size_t>(start + i)]);
      targets.push_back(corpus[static_cast<size_t>(start + i + 1)]);
    }
  }
}

void train_and_check(AttentionKind kind) {
  const std::string kind_name = attention_kind_name(kind);
  CAPTURE(kind_name);
  const std::vector<int64_t> corpus = markov_corpus(20000, 7);
  const double entropy = unigram_entropy(corpus);
  GPTConfig c;
  c.vocab = kVocab;
  c.d_model = 32;
  c.layers = 2;
  c.heads = 2;
  c.seq_len = 16;
  c.attention.kind = kind;
  GPT model(c, 1);
  AdamW optimizer(model.named_parameters(), AdamWOptions{.learning_rate = 3e-3f});
  const WarmupCosineSchedule schedule{
      .peak_lr = 3e-3f, .min_lr = 3e-4f, .warmup_steps = 20, .total_steps = 250};

  Generator batches(3);
  std::vector<int64_t> ids, targets;
  float first_loss = 0.0f;
  for (int64_t step = 0; step < schedule.total_steps; ++step) {
    sample_batch(corpus, 16, c.seq_len, batches, ids, targets);
    optimizer.zero_grad();
    Tensor loss = model.loss(ids, targets, 16, c.seq_len);
    if (step == 0) first_loss = loss.item();
    loss.backward();
    clip_grad_norm(model.parameters(), 1.0f);
    optimizer.set_learning_rate(schedule.lr_at(step));
    optimizer.step();
  }

  model.eval();
  NoGrad no_grad;
  Generator held_out(99);
  sample_batch(corpus, 64, c.seq_len, held_out, ids, targets);
  const float final_loss = model.loss(ids, targets, 64, c.seq_len).item();
  MESSAGE("unigram entropy ", entropy, ", first loss ", first_loss, ", held-out loss ", final_loss);
  CHECK(first_loss > 0.9 * entropy);         // started near chance
  CHECK(final_loss < 0.5 * entropy);         // learned the transitions
  CHECK(final_loss < std::log(2.0) + 0.25);  // close to the chain's own entropy
}

}  // namespace

TEST_CASE("a tiny softmax GPT learns a Markov chain") {
  train_and_check(AttentionKind::Softmax);
}

TEST_CASE("a tiny MultiMax GPT learns a Markov chain") {
  train_and_check(AttentionKind::MultiMax);
}
