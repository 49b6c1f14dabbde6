#include "nn/layers/attention_config.hpp"

#include "engine/error.hpp"

namespace mmx::nn {

void AttentionConfig::validate(const char* owner) const {
  MMX_CHECK(multimax_order == 1 || multimax_order == 2, owner,
            ": multimax_order must be 1 or 2, got ", multimax_order);
}

void AttentionOptions::validate(const char* owner) const {
  MMX_CHECK(d_model > 0, owner, ": d_model must be positive, got ", d_model);
  MMX_CHECK(heads > 0 && d_model % heads == 0, owner, ": heads (", heads,
            ") must be positive and divide d_model (", d_model, ")");
  MMX_CHECK(dropout >= 0.0f && dropout < 1.0f, owner, ": dropout must be in [0, 1), got ", dropout);
  normalizer.validate(owner);
}

}  // namespace mmx::nn
