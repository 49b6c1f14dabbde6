#include "nn/layers/attention_map.hpp"

#include "engine/autograd/no_grad.hpp"

namespace mmx::nn {

AttentionMap capture_attention_map(const Tensor& scores, const Tensor& probabilities,
                                   const Tensor& mask, bool causal, AttentionKind kind,
                                   const MultiMaxParameters* multimax) {
  NoGrad no_grad;  // a picture for the measures, never part of the loss
  const Tensor detached = scores.detach();
  Tensor logits;
  if (kind == AttentionKind::Softmax) logits = detached;
  if (kind == AttentionKind::MultiMax && multimax) logits = multimax->modulate(detached);
  return {detached, probabilities.detach(), mask, causal, logits, /*block_output=*/Tensor()};
}

}  // namespace mmx::nn
