/// \file
/// What every model's constructor (GPT, ViT, Seq2Seq) does before building its layers: check
/// its config, and seed its two random streams (initial weights, dropout masks).
#pragma once

#include <cstdint>

namespace mmx::nn {

/// `config` once its validate() passed: lets a constructor check its config in the member
/// initialiser list, before any layer is built from it.
template <typename Config>
const Config& validated(const Config& config) {
  config.validate();
  return config;
}

/// The seed of a model's dropout stream, derived from its weights' `seed` but apart from it:
/// turning dropout on or off does not change the initial weights.
constexpr uint64_t dropout_seed(uint64_t seed) {
  return seed ^ 0x9E3779B97F4A7C15ull;
}

}  // namespace mmx::nn
