#include "nn/layers/attention_config.hpp"

#include "engine/error.hpp"

namespace mmx::nn {

void AttentionConfig::validate(const char* owner) const {
  MMX_CHECK(multimax_order == 1 || multimax_order == 2, owner,
            ": multimax_order must be 1 or 2, got ", multimax_order);
}

}  // namespace mmx::nn
