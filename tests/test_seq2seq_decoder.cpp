// Seq2SeqDecoder, the encoder-decoder's one-row decoding path: on a padded batch of sources its
// logits are the full teacher-forced forward's at every target position, for SoftMax and for
// MultiMax of order 1 and 2, per layer and per head, in the self- and the cross-attention and
// on the logits, on 1 and 2 threads; rows that follow another row's cache (beam search) carry on
// from it exactly; greedy decoding (one row, three rows, and batched) and beam search of a model
// trained a few steps give the tokens the uncached decoder gives; bad input is refused.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/thread_count.hpp"
#include "nn/layers/normalizers.hpp"
#include "nn/models/seq2seq.hpp"
#include "nn/models/seq2seq_decoder.hpp"
#include "nn/tasks/mt/translation_vocab.hpp"
#include "nn/tasks/mt/translator.hpp"
#include "reversal_task.hpp"

using namespace mmx;
using namespace mmx::nn;

namespace {

struct Case {
  AttentionKind encoder, decoder, cross;
  int order;
  bool per_head;
  bool multimax_logits;
};

// d 96 with 4 heads: dh 24, off the 16-float vector; the MLP's 96 x 384 products are large
// enough to run threaded.
Seq2SeqConfig config_for(const Case& c) {
  Seq2SeqConfig s;
  s.vocab = 23;
  s.d_model = 96;
  s.heads = 4;
  s.encoder_layers = 2;
  s.decoder_layers = 2;
  s.max_source_len = 12;
  s.max_target_len = 20;
  s.encoder_attention.kind = c.encoder;
  s.decoder_attention.kind = c.decoder;
  s.cross_attention.kind = c.cross;
  for (AttentionConfig* a : {&s.encoder_attention, &s.decoder_attention, &s.cross_attention}) {
    a->multimax_order = c.order;
    a->multimax_per_head = c.per_head;
  }
  s.multimax_logits = c.multimax_logits;
  return s;
}

// MultiMax's t and r start near 0 (a modulation close to the identity); spread them so that
// every branch of sigma bends the scores this test compares.
void spread_multimax(Seq2Seq& model) {
  Generator gen(5);
  for (auto& [name, t] : model.named_parameters())
    if (name.find("multimax.") != std::string::npos) {
      const std::vector<float> v = Tensor::uniform(t.shape(), gen, -0.8f, 0.8f).to_vector();
      std::copy(v.begin(), v.end(), t.data());
    }
}

std::vector<int64_t> random_ids(int64_t n, int64_t vocab, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (auto& id : ids)
    id =
        kFirstCharId + static_cast<int64_t>(gen.below(static_cast<uint64_t>(vocab - kFirstCharId)));
  return ids;
}

// Three sources of 12, 7 and 3 characters, padded to 12, the middle one with a pad inside it.
std::vector<int64_t> padded_sources(int64_t vocab) {
  std::vector<int64_t> ids = random_ids(3 * 12, vocab, 2);
  std::fill(ids.begin() + 12 + 7, ids.begin() + 24, kPadId);
  ids[12 + 3] = kPadId;
  std::fill(ids.begin() + 24 + 3, ids.end(), kPadId);
  return ids;
}

// Targets of every row, BOS first: [3, T].
std::vector<int64_t> targets(int64_t T, int64_t vocab) {
  std::vector<int64_t> ids = random_ids(3 * T, vocab, 7);
  for (int64_t b = 0; b < 3; ++b) ids[b * T] = kBosId;
  return ids;
}

// The largest |a - b| and the largest |b| over the rows' logits.
struct Difference {
  float max_diff = 0, max_logit = 0;
  void add(const float* a, const float* b, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      max_diff = std::max(max_diff, std::fabs(a[i] - b[i]));
      max_logit = std::max(max_logit, std::fabs(b[i]));
    }
  }
};

}  // namespace

TEST_CASE("the one-row decoder's logits are the full forward's at every position") {
  using K = AttentionKind;
  const Case cases[] = {
      {K::Softmax, K::Softmax, K::Softmax, 2, false, false},
      {K::MultiMax, K::MultiMax, K::MultiMax, 1, true, true},
      {K::MultiMax, K::MultiMax, K::MultiMax, 2, false, false},
      {K::MultiMax, K::MultiMax, K::Softmax, 1, false, true},
      {K::Softmax, K::Softmax, K::MultiMax, 2, true, false},
      {K::Softmax, K::Softmax, K::Softmax, 2, false, true},
  };
  for (const Case& c : cases)
    for (int threads : {1, 2}) {
      omp_set_num_threads(threads);
      const std::string kinds =
          cat(attention_kind_name(c.encoder), "/", attention_kind_name(c.decoder), "/",
              attention_kind_name(c.cross));
      CAPTURE(kinds);
      CAPTURE(c.order);
      CAPTURE(c.per_head);
      CAPTURE(c.multimax_logits);
      CAPTURE(threads);
      Seq2Seq model(config_for(c), 11);
      model.eval();
      spread_multimax(model);
      const int64_t S = 12, T = model.config().max_target_len, V = model.config().vocab;
      const std::vector<int64_t> source = padded_sources(V), target = targets(T, V);
      std::vector<float> full;
      {
        NoGrad no_grad;
        full = model.forward(source, S, target, T, 3).to_vector();  // [3, T, V]
      }
      Seq2SeqDecoder decoder(model);
      for (int pass = 0; pass < 2; ++pass) {  // the second after start(): nothing left over
        decoder.start(source, 3, S);
        Difference d;
        for (int64_t t = 0; t < T; ++t) {
          const std::vector<float> step =
              decoder.step({target[t], target[T + t], target[2 * T + t]}).to_vector();
          for (int64_t b = 0; b < 3; ++b) d.add(&step[b * V], &full[(b * T + t) * V], V);
        }
        CHECK(decoder.length() == T);
        CHECK(d.max_logit > 0.1f);  // the comparison is not between near-zeros
        CHECK(d.max_diff < 1e-5f);
      }
    }
  omp_set_num_threads(2);
}

TEST_CASE("rows that follow another row's cache carry on from it exactly") {
  Seq2Seq model(config_for({AttentionKind::MultiMax, AttentionKind::MultiMax,
                            AttentionKind::MultiMax, 2, true, true}),
                4);
  model.eval();
  spread_multimax(model);
  const int64_t S = 12, T = 9, V = model.config().vocab;
  const std::vector<int64_t> source = padded_sources(V), target = targets(T, V);
  std::vector<float> full;
  {
    NoGrad no_grad;
    full = model.forward(source, S, target, T, 3).to_vector();
  }
  // Four positions in, rows become (2, 0, 2, 1): the first and third follow source 2, and
  // carry on with source 2's target; the rest of each row as in the full forward.
  Seq2SeqDecoder decoder(model);
  decoder.start(source, 3, S);
  const std::vector<int64_t> follow = {2, 0, 2, 1};
  Difference d;
  for (int64_t t = 0; t < T; ++t) {
    if (t == 4) decoder.select_rows(follow);
    const std::vector<int64_t>& rows = t < 4 ? std::vector<int64_t>{0, 1, 2} : follow;
    std::vector<int64_t> tokens;
    for (int64_t b : rows) tokens.push_back(target[b * T + t]);
    const std::vector<float> step = decoder.step(tokens).to_vector();
    for (size_t i = 0; i < rows.size(); ++i) d.add(&step[i * V], &full[(rows[i] * T + t) * V], V);
  }
  CHECK(decoder.rows() == 4);
  CHECK(d.max_logit > 0.1f);
  CHECK(d.max_diff < 1e-5f);
}

TEST_CASE("greedy decoding and beam search of a trained model: the uncached decoder's tokens") {
  // Reversing short strings, trained 60 steps: far enough from the initial weights that the
  // outputs differ from row to row and stop at different lengths.
  ReversalTask task("abcdefgh", 7);
  Seq2SeqConfig c = task.config(1, 2);
  c.decoder_attention.kind = AttentionKind::MultiMax;
  c.cross_attention.kind = AttentionKind::MultiMax;
  c.multimax_logits = true;
  Seq2Seq model(c, 1);
  task.train(model, 60, 16);
  model.eval();
  std::vector<std::vector<int64_t>> sources;
  for (int i = 0; i < 24; ++i) sources.push_back(task.vocab.encode(task.random_pair().source));
  for (int threads : {1, 2}) {
    // Fixed: greedy_decode and beam_search otherwise choose their count from the load.
    const FixedThreadCount fixed(threads);
    CAPTURE(threads);
    // All 24 at once decode batched (Seq2Seq::decode_step); one or three at a time, one row
    // at a time (Seq2SeqDecoder).
    const auto cached = greedy_decode(model, sources, 0, true);
    CHECK(cached == greedy_decode(model, sources, 0, false));
    for (size_t i = 0; i < sources.size(); i += 3) {
      const std::vector<std::vector<int64_t>> three(sources.begin() + i, sources.begin() + i + 3);
      const auto rows = greedy_decode(model, three, 0, true);
      for (size_t j = 0; j < 3; ++j) CHECK(rows[j] == cached[i + j]);
      CHECK(greedy_decode(model, {sources[i]}, 0, true)[0] == cached[i]);
    }
    size_t shortest = 100, longest = 0;
    for (const auto& out : cached) {
      shortest = std::min(shortest, out.size());
      longest = std::max(longest, out.size());
    }
    CHECK(shortest < longest);  // rows finished at different steps
    for (int64_t k : {1, 3}) {
      CAPTURE(k);
      BeamSearchOptions cached_beam{
          .beam_size = k, .max_tokens = 0, .length_penalty = 0.6f, .use_cache = true};
      BeamSearchOptions uncached_beam = cached_beam;
      uncached_beam.use_cache = false;
      for (size_t i = 0; i < sources.size(); ++i) {
        const auto beamed = beam_search(model, sources[i], cached_beam);
        CHECK(beamed == beam_search(model, sources[i], uncached_beam));
        if (k == 1) CHECK(beamed == cached[i]);
      }
    }
  }
}

TEST_CASE("the one-row decoder refuses what it cannot decode, naming the problem") {
  Seq2SeqConfig c = config_for(
      {AttentionKind::Softmax, AttentionKind::Softmax, AttentionKind::Softmax, 2, false, false});
  Seq2Seq model(c, 1);
  CHECK_THROWS_WITH_AS(Seq2SeqDecoder{model}, doctest::Contains("call eval() first"), Error);
  model.eval();
  Seq2SeqDecoder decoder(model);
  CHECK_THROWS_WITH_AS(decoder.step({3}), doctest::Contains("call start() first"), Error);
  const std::vector<int64_t> source = padded_sources(c.vocab);
  decoder.start(source, 3, 12);
  CHECK_THROWS_WITH_AS(decoder.step({3, 4}), doctest::Contains("2 tokens for 3 rows"), Error);
  CHECK_THROWS_WITH_AS(decoder.step({3, c.vocab, 4}), doctest::Contains("outside the vocabulary"),
                       Error);
  CHECK_THROWS_WITH_AS(decoder.select_rows({0, 3}), doctest::Contains("row 3 outside 3 rows"),
                       Error);
  for (int64_t t = 0; t < c.max_target_len; ++t) decoder.step({3, 4, 5});
  CHECK_THROWS_WITH_AS(decoder.step({3, 4, 5}), doctest::Contains("is full"), Error);
  std::vector<int64_t> padding_alone = source;
  std::fill(padding_alone.begin() + 12, padding_alone.begin() + 24, kPadId);
  CHECK_THROWS_WITH_AS(decoder.start(padding_alone, 3, 12),
                       doctest::Contains("source row 1 is padding alone"), Error);

  c.cross_attention.kind = AttentionKind::SparseMax;
  CHECK_FALSE(Seq2SeqDecoder::supports(c));
  Seq2Seq sparse(c, 1);
  sparse.eval();
  CHECK_THROWS_WITH_AS(Seq2SeqDecoder{sparse}, doctest::Contains("cross sparsemax"), Error);
}
