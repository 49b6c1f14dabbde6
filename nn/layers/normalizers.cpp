#include "nn/layers/normalizers.hpp"

#include "engine/error.hpp"

namespace mmx::nn {

namespace {

Tensor apply_softmax(const Tensor& x, const NormalizerInputs& in) {
  return softmax_temperature(x, in.temperature, in.mask, in.causal);
}
Tensor apply_multimax(const Tensor& x, const NormalizerInputs& in) {
  MMX_CHECK(in.multimax != nullptr, "attention: MultiMax needs its (t, r) parameters");
  return multimax(x, *in.multimax, in.mask, in.causal);
}
Tensor apply_sparsemax(const Tensor& x, const NormalizerInputs& in) {
  return sparsemax(x, in.mask, in.causal);
}
Tensor apply_entmax15(const Tensor& x, const NormalizerInputs& in) {
  return entmax15(x, in.mask, in.causal);
}
Tensor apply_evsoftmax(const Tensor& x, const NormalizerInputs& in) {
  return evsoftmax(x, in.mask, in.causal, in.training);
}

constexpr std::array<Normalizer, static_cast<size_t>(AttentionKind::Count)> kNormalizers{{
    {AttentionKind::Softmax, "softmax", "SoftMax", "softmax(x / T), T = 1 in attention", true,
     apply_softmax},
    {AttentionKind::MultiMax, "multimax", "MultiMax",
     "softmax(sigma(x)): a learned piece-wise modulation first (Zhou et al. 2024)", false,
     apply_multimax},
    {AttentionKind::SparseMax, "sparsemax", "SparseMax",
     "Euclidean projection onto the simplex (Martins & Astudillo 2016)", false, apply_sparsemax},
    {AttentionKind::EntMax15, "entmax15", "EntMax-1.5",
     "relu(x / 2 - tau)^2, between SoftMax and SparseMax (Peters et al. 2019)", false,
     apply_entmax15},
    {AttentionKind::EvSoftmax, "evsoftmax", "EvSoftMax",
     "softmax over the scores at or above the row's mean (Chen et al. 2021)", false,
     apply_evsoftmax},
}};

// A missing row or one out of place fails the build.
constexpr bool rows_in_kind_order() {
  for (size_t i = 0; i < kNormalizers.size(); ++i)
    if (kNormalizers[i].kind != static_cast<AttentionKind>(i) || kNormalizers[i].apply == nullptr)
      return false;
  return true;
}
static_assert(rows_in_kind_order(), "kNormalizers needs one row per AttentionKind, in order");

}  // namespace

const std::array<Normalizer, static_cast<size_t>(AttentionKind::Count)>& normalizers() {
  return kNormalizers;
}

const Normalizer& normalizer(AttentionKind kind) {
  const auto index = static_cast<size_t>(kind);
  MMX_CHECK(index < kNormalizers.size(), "normalizer: unknown AttentionKind ", index);
  return kNormalizers[index];
}

const Normalizer& normalizer(const std::string& name) {
  std::string choices;
  for (const Normalizer& n : kNormalizers) {
    if (name == n.name) return n;
    choices += choices.empty() ? n.name : cat(", ", n.name);
  }
  throw Error(cat("unknown attention kind '", name, "' (choose one of ", choices, ")"));
}

std::vector<std::string> normalizer_names() {
  std::vector<std::string> names;
  for (const Normalizer& n : kNormalizers) names.emplace_back(n.name);
  return names;
}

const char* attention_kind_name(AttentionKind kind) {
  return normalizer(kind).name;
}

AttentionKind parse_attention_kind(const std::string& name) {
  return normalizer(name).kind;
}

}  // namespace mmx::nn
