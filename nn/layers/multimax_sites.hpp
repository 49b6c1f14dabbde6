/// \file
/// The MultiMax sites of a model: every MultiMaxParameters it holds (each attention layer with
/// MultiMax, and "head_multimax" on the output logits), named by their parameter path, with
/// their (t, r) copied out as plain numbers for the training log and the figures.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/module.hpp"

namespace mmx::nn {

/// One MultiMax's (t, r) as numbers.
struct MultiMaxSiteValues {
  /// the parameters' path in the model: "blocks.0.attn.multimax", "head_multimax", ...
  std::string site;
  /// 1 (t0, t1, r0, r1 in use) or 2 (all four pairs)
  int order = 2;
  /// t0..t3, one row per head ([H, 4] parameters) or a single row ([4], shared by the heads)
  std::vector<std::array<float, 4>> t;
  /// r0..r3, rows as `t`
  std::vector<std::array<float, 4>> r;
  /// whether the parameters are per head ([H, 4]) rather than one set for the layer
  bool per_head = false;

  /// {"site", "order", "per_head", "t": [[t0..t3], ...], "r": [[r0..r3], ...]}
  nlohmann::json to_json() const;
  /// The inverse of to_json(); an mmx::Error names `label` and the bad field.
  static MultiMaxSiteValues from_json(const nlohmann::json& json, const std::string& label);
};

/// Every MultiMax of `model`, in registration order (the blocks in model order, the logits'
/// last); empty for a model without MultiMax.
std::vector<MultiMaxSiteValues> multimax_site_values(const Module& model);

}  // namespace mmx::nn
