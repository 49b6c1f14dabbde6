// nn/layers/normalizers.hpp's table: every AttentionKind has its row (also a static_assert there),
// the names round-trip and are what the command line offers, and each row applies its own op with
// the mask, causality, MultiMax parameters, training flag and temperature it is given.
#include <doctest/doctest.h>

#include <set>

#include "engine/error.hpp"
#include "engine/normalizers.hpp"
#include "engine/random.hpp"
#include "nn/layers/normalizers.hpp"
#include "tensor_compare.hpp"

using namespace mmx;

TEST_CASE("one row per kind, in order, names unique and round-tripping") {
  std::set<std::string> names;
  for (size_t i = 0; i < nn::normalizers().size(); ++i) {
    const nn::Normalizer& n = nn::normalizers()[i];
    CAPTURE(n.name);
    CHECK(static_cast<size_t>(n.kind) == i);
    CHECK(&nn::normalizer(n.kind) == &n);
    CHECK(&nn::normalizer(std::string(n.name)) == &n);
    CHECK(nn::parse_attention_kind(n.name) == n.kind);
    CHECK(std::string(n.title).size() > 0);
    CHECK(std::string(n.help).size() > 0);
    names.insert(n.name);
  }
  CHECK(names.size() == nn::normalizers().size());
  CHECK(nn::normalizer_names() ==
        std::vector<std::string>{"softmax", "multimax", "sparsemax", "entmax15", "evsoftmax"});
  CHECK_THROWS_WITH_AS(nn::normalizer(std::string("maxsoft")),
                       "unknown attention kind 'maxsoft' (choose one of softmax, multimax, "
                       "sparsemax, entmax15, evsoftmax)",
                       Error);
}

TEST_CASE("each row applies its own op with every input it is given") {
  Generator gen(3);
  const Tensor x = Tensor::randn({2, 5, 5}, gen);
  const Tensor mask = Tensor::from_data({0, 0, -INFINITY, 0, 0}, {5});
  const MultiMaxParams params{Tensor::from_data({0.3f, -0.2f, 0.1f, 0.05f}, {4}),
                              Tensor::from_data({-0.5f, 0.5f, -1.0f, 1.0f}, {4}), 2};
  nn::NormalizerInputs in;
  in.mask = mask;
  in.causal = true;
  in.multimax = &params;
  in.training = true;
  in.temperature = 0.7f;
  using K = nn::AttentionKind;
  const auto apply = [&](K kind) { return nn::normalizer(kind).apply(x, in); };
  CHECK(max_abs_diff(apply(K::Softmax), softmax_temperature(x, 0.7f, mask, true)) == 0);
  CHECK(max_abs_diff(apply(K::MultiMax), multimax(x, params, mask, true)) == 0);
  CHECK(max_abs_diff(apply(K::SparseMax), sparsemax(x, mask, true)) == 0);
  CHECK(max_abs_diff(apply(K::EntMax15), entmax15(x, mask, true)) == 0);
  CHECK(max_abs_diff(apply(K::EvSoftmax), evsoftmax(x, mask, true, true)) == 0);
  // EvSoftMax's training epsilon is read: below-mean entries get weight only when training.
  in.training = false;
  CHECK(max_abs_diff(apply(K::EvSoftmax), evsoftmax(x, mask, true, false)) == 0);
  in.multimax = nullptr;
  CHECK_THROWS_WITH_AS(apply(K::MultiMax), "attention: MultiMax needs its (t, r) parameters",
                       Error);
}
