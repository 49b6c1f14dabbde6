#include "nn/layers/attention_map.hpp"

#include "engine/autograd/no_grad.hpp"
#include "engine/normalizers.hpp"

namespace mmx::nn {

AttentionMap capture_attention_map(const Tensor& scores, const Tensor& probabilities,
                                   const Tensor& mask, bool causal, AttentionKind kind,
                                   const MultiMaxParameters* multimax) {
  NoGrad no_grad;  // a picture for the measures, never part of the loss
  const Tensor detached = scores.detach();
  Tensor logits;
  if (kind == AttentionKind::Softmax) logits = detached;
  MultiMaxParams params;
  if (kind == AttentionKind::MultiMax && multimax) {
    logits = multimax->modulate(detached);
    params = {multimax->t().detach(), multimax->r().detach(), multimax->order()};
  }
  if (kind == AttentionKind::EvSoftmax) logits = evsoftmax_logits(detached, mask, causal);
  return {detached, probabilities.detach(),   mask, causal, logits,
          params,   /*block_output=*/Tensor()};
}

}  // namespace mmx::nn
