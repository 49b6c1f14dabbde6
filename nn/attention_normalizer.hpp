/// \file
/// The one switch from an AttentionKind to the op that turns attention scores into weights,
/// shared by every attention layer (GPT/ViT self-attention, the encoder-decoder's attentions).
#pragma once

#include "engine/tensor.hpp"
#include "nn/gpt_config.hpp"
#include "nn/multimax_parameters.hpp"

namespace mmx::nn {

/// `multimax` must be given for AttentionKind::MultiMax; `training` switches EvSoftMax's
/// train-time epsilon. mask: 0 / -inf, broadcastable to scores, may be undefined.
Tensor normalize_attention(AttentionKind kind, const Tensor& scores, const Tensor& mask,
                           bool causal, const MultiMaxParameters* multimax, bool training);

}  // namespace mmx::nn
