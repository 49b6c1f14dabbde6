// GPT: parameter names and count (the PyTorch reference's set), config JSON, attention weights,
// dropout modes, input errors, and KV-cache decoding that reproduces the full forward.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/error.hpp"
#include "engine/io/safetensors.hpp"
#include "engine/measures.hpp"
#include "nn/models/gpt.hpp"

using namespace mmx;
using namespace mmx::nn;

namespace {

GPTConfig tiny(AttentionKind kind = AttentionKind::Softmax) {
  GPTConfig c;
  c.vocab = 13;
  c.d_model = 16;
  c.layers = 2;
  c.heads = 2;
  c.seq_len = 9;
  c.attention.kind = kind;
  return c;
}

std::vector<int64_t> random_ids(int64_t n, int64_t vocab, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = static_cast<int64_t>(gen.below(static_cast<uint64_t>(vocab)));
  return ids;
}

bool has_name(const NamedTensors& params, const std::string& name) {
  return std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.first == name; });
}

}  // namespace

TEST_CASE("GPT parameter names and count follow the PyTorch reference") {
  // The reference's "tiny" config: vocab 96, d 128, 4 layers, 4 heads, seq 128.
  GPTConfig c;
  const int64_t d = c.d_model, V = c.vocab;
  const int64_t per_block = 2 * (2 * d)                               // ln1, ln2
                            + (d * 3 * d + 3 * d) + (d * d + d)       // qkv, proj
                            + (d * 4 * d + 4 * d) + (4 * d * d + d);  // fc, out
  const int64_t base = V * d + c.seq_len * d + c.layers * per_block + 2 * d + V * d;
  CHECK(GPT(c).parameter_count() == base);
  c.attention.kind = AttentionKind::MultiMax;
  GPT multimax(c);
  CHECK(multimax.parameter_count() == base + c.layers * 8);
  const NamedTensors names = multimax.named_parameters();
  for (const char* name :
       {"tok.weight", "pos", "blocks.0.ln1.weight", "blocks.3.attn.qkv.weight",
        "blocks.3.attn.qkv.bias", "blocks.2.attn.proj.weight", "blocks.0.attn.multimax.t",
        "blocks.0.attn.multimax.r", "blocks.1.mlp.fc.weight", "blocks.1.mlp.out.bias", "ln.bias",
        "head.weight"})
    CHECK_MESSAGE(has_name(names, name), name);
  CHECK(!has_name(names, "head.bias"));
  CHECK(!has_name(names, "head_multimax.t"));

  c.attention.multimax_per_head = true;
  c.multimax_logits = true;
  GPT per_head(c);
  const NamedTensors per_head_names = per_head.named_parameters();
  CHECK(has_name(per_head_names, "head_multimax.t"));
  for (const auto& [name, t] : per_head_names)
    if (name == "blocks.1.attn.multimax.r") CHECK(t.shape() == Shape{c.heads, 4});
  CHECK(per_head.parameter_count() == base + c.layers * 8 * c.heads + 8);
}

TEST_CASE("one seed, one set of weights: MultiMax adds its (t, r) without shifting the others") {
  const NamedTensors softmax = GPT(tiny(AttentionKind::Softmax), 5).named_parameters();
  GPTConfig c = tiny(AttentionKind::MultiMax);
  for (bool per_head : {false, true}) {
    c.attention.multimax_per_head = per_head;
    c.multimax_logits = per_head;  // the second model also modulates its logits
    const NamedTensors multimax = GPT(c, 5).named_parameters();
    size_t shared = 0;
    for (const auto& [name, w] : softmax)
      for (const auto& [other_name, other] : multimax)
        if (name == other_name) {
          CHECK_MESSAGE(w.to_vector() == other.to_vector(), name);
          ++shared;
        }
    CHECK(shared == softmax.size());
  }
  // Each layer's pair is its own draw.
  const NamedTensors m = GPT(c, 5).named_parameters();
  Tensor t0, t1;
  for (const auto& [name, w] : m) {
    if (name == "blocks.0.attn.multimax.t") t0 = w;
    if (name == "blocks.1.attn.multimax.t") t1 = w;
  }
  REQUIRE((t0.defined() && t1.defined()));
  CHECK(t0.to_vector() != t1.to_vector());
}

TEST_CASE("MultiMax parameters start small (truncated N(0, 0.02))") {
  GPTConfig c = tiny(AttentionKind::MultiMax);
  c.attention.multimax_per_head = true;
  GPT model(c);
  for (const auto& [name, t] : model.named_parameters()) {
    if (name.find("multimax") == std::string::npos) continue;
    for (float v : t.to_vector()) CHECK(std::fabs(v) <= 0.04f);
  }
}

TEST_CASE("GPTConfig JSON round trip and errors") {
  GPTConfig c = tiny(AttentionKind::EntMax15);
  c.dropout = 0.25f;
  c.attention.multimax_order = 1;
  c.multimax_logits = true;
  nlohmann::json j = c;
  CHECK(j.at("attention") == "entmax15");
  const GPTConfig back = nlohmann::json::parse(j.dump()).get<GPTConfig>();
  CHECK(back.vocab == c.vocab);
  CHECK(back.seq_len == c.seq_len);
  CHECK(back.dropout == c.dropout);
  CHECK(back.attention.kind == c.attention.kind);
  CHECK(back.attention.multimax_order == 1);
  CHECK(back.multimax_logits);

  nlohmann::json missing = j;
  missing.erase("heads");
  CHECK_THROWS_WITH_AS(missing.get<GPTConfig>(), doctest::Contains("heads"), Error);
  nlohmann::json bad_kind = j;
  bad_kind["attention"] = "hardmax";
  CHECK_THROWS_WITH_AS(bad_kind.get<GPTConfig>(), doctest::Contains("hardmax"), Error);
  nlohmann::json bad_type = j;
  bad_type["vocab"] = "many";
  CHECK_THROWS_WITH_AS(bad_type.get<GPTConfig>(), doctest::Contains("vocab"), Error);
  nlohmann::json bad_heads = j;
  bad_heads["heads"] = 3;  // does not divide d_model 16
  CHECK_THROWS_WITH_AS(bad_heads.get<GPTConfig>(), doctest::Contains("heads"), Error);
  CHECK(parse_attention_kind("evsoftmax") == AttentionKind::EvSoftmax);
}

TEST_CASE("a GPT rebuilt from its JSON config and safetensors state gives the same logits") {
  GPTConfig c = tiny(AttentionKind::MultiMax);
  c.multimax_logits = true;
  GPT original(c, 21);
  const std::string bytes =
      io::serialize_safetensors(original.state_dict(), {{"config", nlohmann::json(c).dump()}});

  const io::SafetensorsContents file = io::parse_safetensors(bytes, "memory");
  GPT rebuilt(nlohmann::json::parse(file.metadata.at("config")).get<GPTConfig>(), 99);
  rebuilt.load_state_dict(file.tensors);
  const auto ids = random_ids(2 * 5, c.vocab, 8);
  CHECK(rebuilt.forward(ids, 2, 5).to_vector() == original.forward(ids, 2, 5).to_vector());
}

TEST_CASE("attention maps: per layer, causal, rows summing to one, scores beside them") {
  for (AttentionKind kind :
       {AttentionKind::Softmax, AttentionKind::MultiMax, AttentionKind::SparseMax}) {
    const std::string kind_name = attention_kind_name(kind);
    CAPTURE(kind_name);
    GPT model(tiny(kind), 5);
    const int64_t B = 2, T = 6;
    std::vector<AttentionMap> maps = model.attention_maps(random_ids(B * T, 13, 1), B, T);
    REQUIRE(maps.size() == 2);
    for (const AttentionMap& map : maps) {
      const Tensor& p = map.probabilities;
      REQUIRE(p.shape() == Shape{B, 2, T, T});
      REQUIRE(map.scores.shape() == Shape{B, 2, T, T});
      CHECK(!p.requires_grad());
      for (int64_t i = 0; i < T; ++i) {
        float row = 0.0f;
        for (int64_t j = 0; j < T; ++j) {
          row += p.at({1, 1, i, j});
          if (j > i) CHECK(p.at({1, 1, i, j}) == 0.0f);
        }
        CHECK(row == doctest::Approx(1.0f).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("attention maps: SoftMax's and MultiMax's logits give their weights back") {
  // The measures read log phi from map.logits (exact where phi underflows), so
  // softmax(logits) over each row's visible keys must be the weights; per-head MultiMax too.
  struct Row {
    AttentionKind kind;
    bool per_head;
    bool has_logits;
  };
  const Row rows[] = {{AttentionKind::Softmax, false, true},
                      {AttentionKind::MultiMax, false, true},
                      {AttentionKind::MultiMax, true, true},
                      {AttentionKind::SparseMax, false, false}};
  for (const Row& row : rows) {
    const std::string kind_name = attention_kind_name(row.kind);
    CAPTURE(kind_name);
    CAPTURE(row.per_head);
    GPTConfig c = tiny(row.kind);
    c.attention.multimax_per_head = row.per_head;
    GPT model(c, 5);
    if (row.kind == AttentionKind::MultiMax)  // away from SoftMax, so sigma matters
      for (auto& [name, p] : model.named_parameters())
        if (name.ends_with("multimax.t"))
          for (int64_t i = 0; i < p.numel(); ++i) p.data()[i] = (i % 2 ? 0.4f : -0.3f);
    const int64_t B = 2, T = 6;
    for (const AttentionMap& map : model.attention_maps(random_ids(B * T, 13, 1), B, T)) {
      REQUIRE(map.logits.defined() == row.has_logits);
      if (!row.has_logits) continue;
      REQUIRE(map.logits.shape() == map.scores.shape());
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < 2; ++h)
          for (int64_t i = 0; i < T; ++i) {
            std::vector<float> y;
            for (int64_t j = 0; j <= i; ++j) y.push_back(map.logits.at({b, h, i, j}));
            const std::vector<double> log_p = log_softmax_row(y);
            for (int64_t j = 0; j <= i; ++j)
              CHECK(std::exp(log_p[j]) ==
                    doctest::Approx(map.probabilities.at({b, h, i, j})).epsilon(1e-5));
          }
    }
  }
}

TEST_CASE("dropout acts in train mode only") {
  GPTConfig c = tiny();
  c.dropout = 0.5f;
  GPT model(c, 3);
  const auto ids = random_ids(8, 13, 2);
  model.eval();
  const auto eval_a = model.forward(ids, 1, 8).to_vector();
  const auto eval_b = model.forward(ids, 1, 8).to_vector();
  CHECK(eval_a == eval_b);
  model.train();
  CHECK(model.forward(ids, 1, 8).to_vector() != eval_a);
}

TEST_CASE("GPT rejects bad input with errors naming the problem") {
  GPT model(tiny());
  CHECK_THROWS_WITH_AS(model.forward(random_ids(7, 13, 1), 2, 4), doctest::Contains("7 token ids"),
                       Error);
  CHECK_THROWS_WITH_AS(model.forward(random_ids(20, 13, 1), 2, 10), doctest::Contains("seq_len 9"),
                       Error);
  std::vector<int64_t> out_of_range(4, 0);
  out_of_range[2] = 13;
  CHECK_THROWS_AS(model.forward(out_of_range, 1, 4), Error);
  CHECK_THROWS_AS(model.loss(random_ids(4, 13, 1), random_ids(3, 13, 1), 1, 4), Error);
  KVCache cache = model.make_cache(1);
  CHECK_THROWS_WITH_AS(model.forward_incremental(random_ids(2, 13, 1), 2, cache),
                       doctest::Contains("batch"), Error);
  model.forward_incremental(random_ids(9, 13, 1), 1, cache);  // fills the context
  CHECK_THROWS_WITH_AS(model.forward_incremental({1}, 1, cache), doctest::Contains("seq_len"),
                       Error);
}

TEST_CASE("KV-cache decoding gives the full forward's logits") {
  for (AttentionKind kind :
       {AttentionKind::Softmax, AttentionKind::MultiMax, AttentionKind::SparseMax,
        AttentionKind::EntMax15, AttentionKind::EvSoftmax}) {
    GPTConfig c = tiny(kind);
    c.multimax_logits = kind == AttentionKind::MultiMax;
    c.attention.multimax_per_head = kind == AttentionKind::MultiMax;
    const std::string kind_name = attention_kind_name(kind);
    CAPTURE(kind_name);
    GPT model(c, 11);
    model.eval();
    const int64_t B = 2, T = c.seq_len, V = c.vocab;
    const std::vector<int64_t> ids = random_ids(B * T, V, 4);
    const Tensor full = model.forward(ids, B, T);  // [B, T, V]

    // Position by position, and as chunks (prefill 3, then 4 at once, then 2) which need the
    // shifted causal mask.
    for (const std::vector<int64_t>& chunks :
         {std::vector<int64_t>(static_cast<size_t>(T), 1), std::vector<int64_t>{3, 4, 2}}) {
      KVCache cache = model.make_cache(B);
      int64_t start = 0;
      float max_diff = 0.0f;
      for (int64_t n : chunks) {
        std::vector<int64_t> step_ids;
        for (int64_t b = 0; b < B; ++b)
          for (int64_t i = start; i < start + n; ++i) step_ids.push_back(ids[b * T + i]);
        Tensor logits = model.forward_incremental(step_ids, B, cache);
        REQUIRE(logits.shape() == Shape{B, n, V});
        for (int64_t b = 0; b < B; ++b)
          for (int64_t i = 0; i < n; ++i)
            for (int64_t v = 0; v < V; ++v)
              max_diff =
                  std::max(max_diff, std::fabs(logits.at({b, i, v}) - full.at({b, start + i, v})));
        start += n;
      }
      CHECK(cache.length == T);
      CHECK(max_diff < 1e-5f);
    }
  }
}
