// The numbers behind `mmx modulators` (and `mmx explore --ckpt`): each MultiMax site of a trained
// model, its learned (t, r), the raw attention scores it saw on the run's fixed validation batch,
// and which share of those scores falls on each piece of its modulator sigma(x).
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nn/layers/attention_map.hpp"

namespace mmx::cli {

// One piece of a modulator: the scores between two neighbouring breakpoints, where sigma(x) is
// one formula (the terms active there). A score x is in it when low <= x < high; a score exactly
// on a breakpoint counts in the piece above it.
struct ModulatorPiece {
  double low = 0, high = 0;         // -inf, +inf at the two ends
  std::vector<std::string> active;  // the terms acting inside: "t0" (x < r0), "t1" (x > r1), ...
  int64_t count = 0;                // scores in the piece
  double fraction = 0;              // count / all scores (0 when there are none)
  double mean_shift = 0;            // mean of sigma(x) - x over those scores (0 when none)
};

// The pieces of sigma for (t, r, order): the breakpoints in use (r0, r1; order 2 also r2, r3),
// sorted and merged when equal, cut the line into pieces; each score is counted in its piece.
std::vector<ModulatorPiece> modulator_pieces(const std::array<float, 4>& t,
                                             const std::array<float, 4>& r, int order,
                                             const std::vector<float>& scores);

// What one (layer, head) of a trained model did: its (t, r) and the scores it saw.
struct ModulatorSite {
  std::string layer;            // as in the training log: "0", "enc.1", "dec.0", "cross.1"
  std::optional<int64_t> head;  // per-head parameters: this head; shared: none
  int64_t heads = 1;            // the layer's heads (all pooled when the parameters are shared)
  int order = 2;
  std::array<float, 4> t{}, r{};
  std::vector<float> scores;  // q.k/sqrt(d_h) before modulation, masked positions left out
  std::vector<ModulatorPiece> pieces;
};

struct ModulatorReport {
  std::string checkpoint;
  std::string task;   // "lm", "vit", "mt"
  int64_t step = 0;   // training steps of the checkpoint
  std::string batch;  // what the validation batch is, for the titles
  std::vector<ModulatorSite> sites;
};

// The visible scores of `map` ([B, H, T, S]) per head: masked entries (-inf in the mask) and, in
// a causal layer, keys after the query are left out.
std::vector<std::vector<float>> visible_scores(const nn::AttentionMap& map);

// Loads the run in `checkpoint` (with the data it recorded), runs its fixed validation batch and
// describes every MultiMax attention site; an mmx::Error, prefixed by `command`, when the model
// has no MultiMax attention.
ModulatorReport read_modulators(const std::string& checkpoint, const std::string& command);

// "layer 2", "layer 2, head 1", "encoder self-attention, layer 0", ...
std::string site_title(const ModulatorSite& site);

nlohmann::ordered_json to_json(const ModulatorReport& report);
std::string to_text(const ModulatorReport& report);

}  // namespace mmx::cli
