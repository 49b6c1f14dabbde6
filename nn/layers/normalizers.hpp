/// \file
/// The attention normalizers, one table: a row per normalizer with the name that flags,
/// checkpoints and JSON use, a title for figures, one line of help, and the op that applies it.
/// Adding a normalizer is an AttentionKind value and a row here (its op lives in
/// engine/normalizers.hpp); the command line's choices, `mmx explore`, `mmx compare`, the
/// benchmarks and every attention layer read this table.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "engine/normalizers.hpp"
#include "engine/tensor.hpp"

namespace mmx::nn {

/// The function that turns attention scores into weights; `Count` is the number of kinds.
enum class AttentionKind { Softmax, MultiMax, SparseMax, EntMax15, EvSoftmax, Count };

/// What a normalizer reads besides the scores.
struct NormalizerInputs {
  /// additive, 0 or -inf, broadcastable to the scores; may be undefined
  Tensor mask;
  /// skip column j > row i of the last two axes
  bool causal = false;
  /// MultiMax's (t, r, order); MultiMax needs it, the others ignore it
  const MultiMaxParams* multimax = nullptr;
  /// EvSoftMax keeps a small weight below its threshold while training
  bool training = false;
  /// SoftMax's temperature (1 in attention; `mmx explore` varies it)
  float temperature = 1.0f;
};

/// One row of the table.
struct Normalizer {
  /// the row's kind (rows are in AttentionKind order)
  AttentionKind kind;
  /// "softmax": flags, checkpoints, JSON, run folders
  const char* name;
  /// "SoftMax": figures and tables
  const char* title;
  /// one line for --help and the docs
  const char* help;
  /// true for SoftMax alone: `mmx explore` shows it at several temperatures
  bool has_temperature;
  /// The normalizer over the last axis of `scores`.
  Tensor (*apply)(const Tensor& scores, const NormalizerInputs& inputs);
};

/// Every normalizer, in AttentionKind order.
const std::array<Normalizer, static_cast<size_t>(AttentionKind::Count)>& normalizers();
/// The row of `kind`.
const Normalizer& normalizer(AttentionKind kind);
/// The row named `name`; an unknown name is an mmx::Error listing the names.
const Normalizer& normalizer(const std::string& name);
/// {"softmax", "multimax", ...}, for a command line's choices.
std::vector<std::string> normalizer_names();

/// normalizer(kind).name
const char* attention_kind_name(AttentionKind kind);
/// normalizer(name).kind
AttentionKind parse_attention_kind(const std::string& name);

}  // namespace mmx::nn
