// GPTDecoder, the one-row decoding path: at every position of a context past 16 its logits are
// the full forward's, for SoftMax and for MultiMax of order 1 and 2, per layer and per head, in
// the attention and on the logits; 1 and 2 threads; after clear(); and bad input is refused.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "nn/layers/normalizers.hpp"
#include "nn/models/gpt.hpp"
#include "nn/models/gpt_decoder.hpp"

using namespace mmx;
using namespace mmx::nn;

namespace {

struct Case {
  AttentionKind kind;
  int order;
  bool per_head;
  bool multimax_logits;
};

// d 192 with 8 heads: dh 24, off the 16-float vector; the MLP's 192 x 768 products are large
// enough to run threaded (kernels/gemv.cpp), and so are the attention rows past 341 positions
// (8 x 342 x 24 multiply-adds, kernels/cached_attention.cpp).
GPTConfig config_for(const Case& c) {
  GPTConfig g;
  g.vocab = 29;
  g.d_model = 192;
  g.layers = 2;
  g.heads = 8;
  g.seq_len = 360;
  g.attention.kind = c.kind;
  g.attention.multimax_order = c.order;
  g.attention.multimax_per_head = c.per_head;
  g.multimax_logits = c.multimax_logits;
  return g;
}

std::vector<int64_t> random_ids(int64_t n, int64_t vocab, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = static_cast<int64_t>(gen.below(static_cast<uint64_t>(vocab)));
  return ids;
}

// MultiMax's t and r start near 0 (a modulation close to the identity); spread them so that
// every branch of sigma bends the scores this test compares.
void spread_multimax(GPT& model) {
  Generator gen(5);
  for (auto& [name, t] : model.named_parameters())
    if (name.find("multimax.") != std::string::npos) {
      const std::vector<float> v = Tensor::uniform(t.shape(), gen, -0.8f, 0.8f).to_vector();
      std::copy(v.begin(), v.end(), t.data());
    }
}

}  // namespace

TEST_CASE("the decoder's logits are the full forward's at every position") {
  const Case cases[] = {
      {AttentionKind::Softmax, 2, false, false}, {AttentionKind::MultiMax, 1, false, false},
      {AttentionKind::MultiMax, 1, true, true},  {AttentionKind::MultiMax, 2, false, true},
      {AttentionKind::MultiMax, 2, true, false},
  };
  for (const Case& c : cases)
    for (int threads : {1, 2}) {
      omp_set_num_threads(threads);
      const std::string kind = attention_kind_name(c.kind);
      CAPTURE(kind);
      CAPTURE(c.order);
      CAPTURE(c.per_head);
      CAPTURE(c.multimax_logits);
      CAPTURE(threads);
      GPT model(config_for(c), 11);
      model.eval();
      spread_multimax(model);
      NoGrad no_grad;
      const int64_t T = model.config().seq_len, V = model.config().vocab;
      const std::vector<int64_t> ids = random_ids(T, V, 4);
      const std::vector<float> full = model.forward(ids, 1, T).to_vector();  // [T, V]
      GPTDecoder decoder(model);
      for (int pass = 0; pass < 2; ++pass) {  // the second after clear(): nothing left over
        float max_diff = 0, max_logit = 0;
        for (int64_t i = 0; i < T; ++i) {
          const std::vector<float> step = decoder.step(ids[i]).to_vector();
          for (int64_t v = 0; v < V; ++v) {
            max_diff = std::max(max_diff, std::fabs(step[v] - full[i * V + v]));
            max_logit = std::max(max_logit, std::fabs(full[i * V + v]));
          }
        }
        CHECK(decoder.length() == T);
        CHECK(max_logit > 0.1f);  // the comparison is not between near-zeros
        CHECK(max_diff < 1e-5f);
        decoder.clear();
      }
    }
  omp_set_num_threads(2);
}

TEST_CASE("the decoder refuses what it cannot decode, naming the problem") {
  GPTConfig c = config_for({AttentionKind::Softmax, 2, false, false});
  GPT model(c, 1);
  CHECK_THROWS_WITH_AS(GPTDecoder{model}, doctest::Contains("call eval() first"), Error);
  model.eval();
  GPTDecoder decoder(model);
  CHECK_THROWS_WITH_AS(decoder.step(c.vocab), doctest::Contains("outside the vocabulary"), Error);
  CHECK_THROWS_WITH_AS(decoder.step(-1), doctest::Contains("outside the vocabulary"), Error);
  for (int64_t i = 0; i < c.seq_len; ++i) decoder.step(i % c.vocab);
  CHECK_THROWS_WITH_AS(decoder.step(0), doctest::Contains("is full"), Error);

  c.attention.kind = AttentionKind::SparseMax;
  CHECK_FALSE(GPTDecoder::supports(c));
  GPT sparse(c, 1);
  sparse.eval();
  CHECK_THROWS_WITH_AS(GPTDecoder{sparse}, doctest::Contains("not sparsemax"), Error);
}
