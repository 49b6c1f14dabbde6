// The encoder-decoder: config JSON, parameter layout per attention kind and output-logit
// MultiMax, padding invariance,
// cached decoding == uncached, beam size 1 == greedy, and a model that learns to reverse short
// strings in a few hundred steps.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/measures.hpp"
#include "engine/ops.hpp"
#include "engine/random.hpp"
#include "engine/thread_count.hpp"
#include "nn/metrics/chrf.hpp"
#include "nn/models/seq2seq.hpp"
#include "nn/tasks/mt/translation_vocab.hpp"
#include "nn/tasks/mt/translator.hpp"
#include "reversal_task.hpp"

using namespace mmx;
using namespace mmx::nn;

namespace {

Seq2SeqConfig tiny_config(AttentionKind encoder, AttentionKind decoder, AttentionKind cross,
                          bool multimax_logits = false) {
  Seq2SeqConfig c;
  c.vocab = 12;
  c.d_model = 16;
  c.heads = 2;
  c.encoder_layers = 2;
  c.decoder_layers = 2;
  c.max_source_len = 8;
  c.max_target_len = 8;
  c.encoder_attention.kind = encoder;
  c.decoder_attention.kind = decoder;
  c.cross_attention.kind = cross;
  c.multimax_logits = multimax_logits;
  return c;
}

std::vector<std::vector<int64_t>> random_sources(Generator& gen, int64_t count, int64_t vocab) {
  std::vector<std::vector<int64_t>> out(count);
  for (auto& s : out) {
    const int64_t len = 1 + static_cast<int64_t>(gen.uniform() * 6);
    for (int64_t i = 0; i < len; ++i)
      s.push_back(kFirstCharId + static_cast<int64_t>(gen.uniform() * (vocab - kFirstCharId)));
  }
  return out;
}

struct KindsRow {
  const char* what;
  AttentionKind encoder, decoder, cross;
  bool logits;  // multimax_logits
};
const std::vector<KindsRow> kKinds = {
    {"softmax everywhere", AttentionKind::Softmax, AttentionKind::Softmax, AttentionKind::Softmax,
     false},
    {"multimax self, softmax cross", AttentionKind::MultiMax, AttentionKind::MultiMax,
     AttentionKind::Softmax, false},
    {"multimax self, softmax cross, multimax logits (the official recipe)", AttentionKind::MultiMax,
     AttentionKind::MultiMax, AttentionKind::Softmax, true},
    {"multimax everywhere", AttentionKind::MultiMax, AttentionKind::MultiMax,
     AttentionKind::MultiMax, false},
    {"softmax attention, multimax logits", AttentionKind::Softmax, AttentionKind::Softmax,
     AttentionKind::Softmax, true},
    {"sparsemax encoder, entmax decoder, evsoftmax cross", AttentionKind::SparseMax,
     AttentionKind::EntMax15, AttentionKind::EvSoftmax, false},
};

Seq2SeqConfig row_config(const KindsRow& row) {
  return tiny_config(row.encoder, row.decoder, row.cross, row.logits);
}

}  // namespace

TEST_CASE("Seq2SeqConfig: JSON round trip and validation") {
  Seq2SeqConfig c =
      tiny_config(AttentionKind::MultiMax, AttentionKind::Softmax, AttentionKind::SparseMax);
  for (AttentionConfig* a : {&c.encoder_attention, &c.decoder_attention, &c.cross_attention})
    a->multimax_per_head = true;
  const nlohmann::json j = c;
  const Seq2SeqConfig back = j.get<Seq2SeqConfig>();
  CHECK(nlohmann::json(back) == j);
  CHECK(back.cross_attention.kind == AttentionKind::SparseMax);
  CHECK(back.decoder_attention.multimax_per_head);
  CHECK_FALSE(back.multimax_logits);
  c.multimax_logits = true;
  CHECK(nlohmann::json(c).get<Seq2SeqConfig>().multimax_logits);
  // Checkpoints written before output-logit MultiMax existed for mt lack the field: plain logits.
  nlohmann::json old = nlohmann::json(c);
  old.erase("multimax_logits");
  CHECK_FALSE(old.get<Seq2SeqConfig>().multimax_logits);
  nlohmann::json bad = j;
  bad["multimax_logits"] = 1;  // present, so typed: not coerced to true
  CHECK_THROWS_WITH_AS(bad.get<Seq2SeqConfig>(), doctest::Contains("multimax_logits"), Error);
  bad = j;
  bad["cross_attention"] = "nope";
  CHECK_THROWS_AS(bad.get<Seq2SeqConfig>(), Error);
  bad = j;
  bad.erase("decoder_layers");
  CHECK_THROWS_AS(bad.get<Seq2SeqConfig>(), Error);
  c.heads = 3;
  CHECK_THROWS_AS(c.validate(), Error);
  c = tiny_config(AttentionKind::Softmax, AttentionKind::Softmax, AttentionKind::Softmax);
  c.vocab = 3;
  CHECK_THROWS_AS(Seq2Seq{c}, Error);
  // One order for the three attentions: the checkpoint stores it once.
  c = tiny_config(AttentionKind::MultiMax, AttentionKind::MultiMax, AttentionKind::MultiMax);
  c.cross_attention.multimax_order = 1;
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("share one multimax_order"), Error);
}

TEST_CASE("Seq2Seq: MultiMax parameters exist exactly where configured") {
  for (const KindsRow& row : kKinds) {
    CAPTURE(row.what);
    Seq2Seq model(row_config(row));
    const auto names = model.named_parameters();
    auto has = [&](const std::string& name) {
      for (const auto& [n, t] : names)
        if (n == name) return true;
      return false;
    };
    CHECK(has("decoder.1.cross_attn.q.weight"));
    CHECK(has("encoder.0.self_attn.kv.weight"));
    CHECK(has("encoder.0.self_attn.multimax.t") == (row.encoder == AttentionKind::MultiMax));
    CHECK(has("decoder.0.self_attn.multimax.t") == (row.decoder == AttentionKind::MultiMax));
    CHECK(has("decoder.0.cross_attn.multimax.t") == (row.cross == AttentionKind::MultiMax));
    CHECK(has("head_multimax.t") == row.logits);
    CHECK(has("head_multimax.r") == row.logits);
  }
}

TEST_CASE("Seq2Seq: the cross-attention and output-logit MultiMax get a gradient from the loss") {
  struct Row {
    Seq2SeqConfig config;
    std::string parameter;
  };
  const std::vector<Row> rows = {
      {tiny_config(AttentionKind::Softmax, AttentionKind::Softmax, AttentionKind::MultiMax),
       "decoder.0.cross_attn.multimax.t"},
      {tiny_config(AttentionKind::Softmax, AttentionKind::Softmax, AttentionKind::Softmax, true),
       "head_multimax.t"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.parameter);
    Seq2Seq model(row.config);
    const std::vector<int64_t> src = {3, 4, 5, 6}, tin = {kBosId, 7, 8}, tout = {7, 8, kEosId};
    model.loss(src, 4, tin, tout, 3, 1).backward();
    int found = 0;
    for (const auto& [name, p] : model.named_parameters())
      if (name == row.parameter) {
        ++found;
        double norm = 0;
        for (float g : p.grad().to_vector()) norm += g * g;
        CHECK(norm > 0);
      }
    CHECK(found == 1);
  }
}

TEST_CASE("Seq2Seq: multimax_logits modulates the plain model's logits, other weights equal") {
  const Seq2SeqConfig plain =
      tiny_config(AttentionKind::MultiMax, AttentionKind::MultiMax, AttentionKind::Softmax);
  Seq2SeqConfig modulated = plain;
  modulated.multimax_logits = true;
  const Seq2Seq a(plain, 9), b(modulated, 9);
  NoGrad no_grad;
  const std::vector<int64_t> src = {3, 4, 5, 6}, tin = {kBosId, 7, 8};
  const Tensor logits = a.forward(src, 4, tin, 3, 1);
  // The same (t, r) in a standalone modulator: b's logits are sigma(a's logits).
  MultiMaxParameters head(0, modulated.encoder_attention.multimax_order, Generator(0));
  const std::string prefix = "head_multimax.";
  NamedTensors head_state;
  for (const auto& [name, p] : b.named_parameters())
    if (name.starts_with(prefix)) head_state.emplace_back(name.substr(prefix.size()), p);
  head.load_state_dict(head_state);
  const std::vector<float> want = head.modulate(logits).to_vector();
  const std::vector<float> got = b.forward(src, 4, tin, 3, 1).to_vector();
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-6));
  CHECK(got != logits.to_vector());
}

TEST_CASE("Seq2Seq: padding a source does not change its logits") {
  Seq2Seq model(
      tiny_config(AttentionKind::MultiMax, AttentionKind::Softmax, AttentionKind::MultiMax));
  model.eval();
  NoGrad no_grad;
  const std::vector<int64_t> tin = {kBosId, 5, 6};
  const auto alone = model.forward({3, 4, 5}, 3, tin, 3, 1).to_vector();
  const auto padded =
      model.forward({3, 4, 5, kPadId, kPadId, 9, 8, 7, 6, 5}, 5, {kBosId, 5, 6, kBosId, 4, 4}, 3, 2)
          .to_vector();
  REQUIRE(padded.size() == 2 * alone.size());
  for (size_t i = 0; i < alone.size(); ++i)
    CHECK(padded[i] == doctest::Approx(alone[i]).epsilon(1e-4));
}

TEST_CASE("Seq2Seq: attention maps of every layer; padding changes no measure") {
  for (const KindsRow& row : kKinds) {
    CAPTURE(row.what);
    Seq2Seq model(row_config(row), 3);
    model.eval();
    NoGrad no_grad;
    // One pair alone, then the same pair padded on both sides: the padded keys get no weight
    // and the padded queries' rows are masked out, so every layer's S and M stay the same.
    Seq2SeqAttentionMaps alone, padded;
    model.forward({3, 4, 5}, 3, {kBosId, 5, 6}, 3, 1, &alone);
    model.forward({3, 4, 5, kPadId, kPadId}, 5, {kBosId, 5, 6, kPadId}, 4, 1, &padded);
    REQUIRE(alone.encoder.size() == 2);
    REQUIRE(alone.decoder.size() == 2);
    REQUIRE(alone.cross.size() == 2);
    CHECK(padded.encoder[0].scores.shape() == Shape{1, 2, 5, 5});
    CHECK(padded.decoder[0].probabilities.shape() == Shape{1, 2, 4, 4});
    CHECK(padded.cross[1].scores.shape() == Shape{1, 2, 4, 5});
    CHECK(padded.decoder[0].causal);
    CHECK_FALSE(padded.cross[0].causal);
    const auto same_measures = [](const std::vector<AttentionMap>& a,
                                  const std::vector<AttentionMap>& b) {
      for (size_t l = 0; l < a.size(); ++l) {
        const AttentionMeasures ma =
            attention_measures(a[l].scores, a[l].probabilities, a[l].mask, a[l].causal);
        const AttentionMeasures mb =
            attention_measures(b[l].scores, b[l].probabilities, b[l].mask, b[l].causal);
        CHECK(mb.rows == ma.rows);
        CHECK(mb.sparsity == doctest::Approx(ma.sparsity).epsilon(1e-4));
        CHECK(mb.multimodality == doctest::Approx(ma.multimodality).epsilon(1e-4));
      }
    };
    same_measures(alone.encoder, padded.encoder);
    same_measures(alone.decoder, padded.decoder);
    same_measures(alone.cross, padded.cross);
  }
}

TEST_CASE("Seq2Seq: decode_step logits match the full forward, for every attention kind") {
  for (const KindsRow& row : kKinds) {
    CAPTURE(row.what);
    Seq2Seq model(row_config(row), 3);
    model.eval();
    const std::vector<int64_t> src = {3, 4, 5, 6, 7, kPadId, 9, 10, 11, 3, 4, 5};
    const std::vector<int64_t> tgt = {kBosId, 8, 9, 10, 11, kBosId, 3, 5, 7, 9};
    const int64_t V = model.config().vocab, T = 5;
    std::vector<float> full;
    {
      NoGrad no_grad;
      full = model.forward(src, 6, tgt, T, 2).to_vector();
    }
    DecoderState state = model.start_decoding(src, 2, 6);
    for (int64_t t = 0; t < T; ++t) {
      const auto step = model.decode_step({tgt[t], tgt[T + t]}, state).to_vector();
      for (int64_t b = 0; b < 2; ++b)
        for (int64_t v = 0; v < V; ++v)
          CHECK(step[b * V + v] ==
                doctest::Approx(full[(b * T + t) * V + v]).epsilon(1e-4).scale(1e-3));
    }
    CHECK_THROWS_AS(model.decode_step({3}, state), Error);  // batch 2 state, one token
  }
}

TEST_CASE("greedy decoding: cached == uncached; beam size 1 == greedy") {
  // The runs compared need one thread count: decoding otherwise chooses it from the load.
  const FixedThreadCount fixed(max_thread_count());
  for (const KindsRow& row : kKinds) {
    CAPTURE(row.what);
    Seq2Seq model(row_config(row), 11);
    model.eval();
    Generator gen(5);
    const auto sources = random_sources(gen, 6, model.config().vocab);
    const auto cached = greedy_decode(model, sources, 0, true);
    const auto uncached = greedy_decode(model, sources, 0, false);
    CHECK(cached == uncached);
    BeamSearchOptions one;
    one.beam_size = 1;
    for (size_t i = 0; i < sources.size(); ++i)
      CHECK(beam_search(model, sources[i], one) == cached[i]);
    BeamSearchOptions wide;
    wide.beam_size = 4;
    wide.max_tokens = 5;
    for (const auto& s : sources) CHECK(beam_search(model, s, wide).size() <= 5);
  }
}

TEST_CASE("translator: bad input is an error") {
  Seq2Seq model(
      tiny_config(AttentionKind::Softmax, AttentionKind::Softmax, AttentionKind::Softmax));
  model.eval();
  CHECK_THROWS_AS(greedy_decode(model, {}), Error);
  CHECK_THROWS_AS(greedy_decode(model, {{}}), Error);
  CHECK_THROWS_AS(greedy_decode(model, {std::vector<int64_t>(9, 3)}), Error);  // > max_source
  BeamSearchOptions bad;
  bad.beam_size = 0;
  CHECK_THROWS_AS(beam_search(model, {3}, bad), Error);
}

TEST_CASE("TranslationVocab and make_batch") {
  const std::vector<data::PhrasePair> pairs = {{"ab", "b"}, {"c", "abc"}};
  const TranslationVocab vocab = TranslationVocab::from_pairs(pairs);
  CHECK(vocab.size() == 3 + kFirstCharId);
  CHECK(vocab.encode("cab") == std::vector<int64_t>{5, 3, 4});
  CHECK(vocab.decode({kBosId, 5, 3, kEosId, 4}) == "ca");
  CHECK_THROWS_AS(vocab.encode("z"), Error);
  const Seq2SeqBatch b = make_batch(vocab, pairs);
  CHECK(b.source_len == 2);
  CHECK(b.target_len == 4);
  CHECK(b.source == std::vector<int64_t>{3, 4, 5, kPadId});
  CHECK(b.target_in == std::vector<int64_t>{kBosId, 4, kPadId, kPadId, kBosId, 3, 4, 5});
  CHECK(b.target_out == std::vector<int64_t>{4, kEosId, kPadId, kPadId, 3, 4, 5, kEosId});
}

TEST_CASE("Seq2Seq learns to reverse short strings") {
  ReversalTask task("abcdef", 5);
  Seq2SeqConfig c = task.config(1, 1);
  c.cross_attention.kind = AttentionKind::MultiMax;
  Seq2Seq model(c, 1);
  const auto [first, last] = task.train(model, 300, 32);
  MESSAGE("loss ", first, " -> ", last);
  CHECK(last < 0.2f * first);
  model.eval();
  std::vector<std::vector<int64_t>> sources;
  std::vector<std::string> references, hypotheses;
  for (int i = 0; i < 50; ++i) {
    const data::PhrasePair p = task.random_pair();
    sources.push_back(task.vocab.encode(p.source));
    references.push_back(p.target);
  }
  for (const auto& ids : greedy_decode(model, sources))
    hypotheses.push_back(task.vocab.decode(ids));
  const double exact = metrics::exact_match(hypotheses, references);
  const double chrf = metrics::corpus_chrf(hypotheses, references);
  BeamSearchOptions beam;
  std::vector<std::string> beamed;
  for (const auto& s : sources) beamed.push_back(task.vocab.decode(beam_search(model, s, beam)));
  MESSAGE("greedy exact ", exact, ", chrF ", chrf, "; beam 4 exact ",
          metrics::exact_match(beamed, references));
  CHECK(exact >= 0.8);
  CHECK(chrf >= 85.0);
  CHECK(metrics::exact_match(beamed, references) >= 0.8);
}
