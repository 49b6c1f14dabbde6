#include "nn/attention_normalizer.hpp"

#include "engine/error.hpp"
#include "engine/normalizers.hpp"

namespace mmx::nn {

Tensor normalize_attention(AttentionKind kind, const Tensor& scores, const Tensor& mask,
                           bool causal, const MultiMaxParameters* multimax, bool training) {
  switch (kind) {
    case AttentionKind::Softmax: return softmax_temperature(scores, 1.0f, mask, causal);
    case AttentionKind::MultiMax:
      MMX_CHECK(multimax != nullptr, "attention: MultiMax needs its (t, r) parameters");
      return mmx::multimax(scores, multimax->params(), mask, causal);
    case AttentionKind::SparseMax: return sparsemax(scores, mask, causal);
    case AttentionKind::EntMax15: return entmax15(scores, mask, causal);
    case AttentionKind::EvSoftmax: return evsoftmax(scores, mask, causal, training);
  }
  throw Error("attention: unknown attention kind");
}

}  // namespace mmx::nn
