#include "cli/inspect/modulator_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "cli/inspect/explore_report.hpp"
#include "engine/error.hpp"
#include "nn/tasks/trainer.hpp"

namespace mmx::cli {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Whether term k of sigma acts at x: the low terms (r0, r2) below their breakpoint, the high
// terms (r1, r3) above it, as relu(r - x) and relu(x - r).
bool term_active(int k, const std::array<float, 4>& r, double x) {
  const double rk = r[static_cast<size_t>(k)];
  return k % 2 == 0 ? x < rk : x > rk;
}

std::array<float, 4> row(const Tensor& p, int64_t head) {
  const std::vector<float> v = p.contiguous().to_vector();
  const size_t at = p.dim() == 2 ? static_cast<size_t>(head) * 4 : 0;
  return {v[at], v[at + 1], v[at + 2], v[at + 3]};
}

std::string number(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%+.3f", x);
  return buffer;
}

std::string four(const std::array<float, 4>& v, int order) {
  std::string out;
  for (int k = 0; k < 2 * order; ++k) out += cat(k ? " " : "", number(v[static_cast<size_t>(k)]));
  return out;
}

std::string interval(const ModulatorPiece& p) {
  if (std::isinf(p.low) && std::isinf(p.high)) return "every x";
  if (std::isinf(p.low)) return cat("x < ", number(p.high));
  if (std::isinf(p.high)) return cat("x >= ", number(p.low));
  return cat(number(p.low), " <= x < ", number(p.high));
}

std::string batch_description(const std::string& task, const nn::AttentionMap& map) {
  const int64_t rows = map.scores.size(0);
  if (task == "lm") return cat(rows, " validation windows of ", map.scores.size(2), " characters");
  if (task == "vit") return cat(rows, " held-out training images");
  return cat(rows, " validation pairs");
}

}  // namespace

std::vector<ModulatorPiece> modulator_pieces(const std::array<float, 4>& t,
                                             const std::array<float, 4>& r, int order,
                                             const std::vector<float>& scores) {
  MMX_CHECK(order == 1 || order == 2, "modulator_pieces: order must be 1 or 2, got ", order);
  std::vector<double> cuts;
  for (int k = 0; k < 2 * order; ++k) cuts.push_back(r[static_cast<size_t>(k)]);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());

  std::vector<ModulatorPiece> pieces;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    ModulatorPiece p;
    p.low = i == 0 ? -kInf : cuts[i - 1];
    p.high = i == cuts.size() ? kInf : cuts[i];
    // Any point strictly inside the piece tells which terms act on all of it.
    const double inside = std::isinf(p.low)    ? p.high - 1
                          : std::isinf(p.high) ? p.low + 1
                                               : (p.low + p.high) / 2;
    for (int k = 0; k < 2 * order; ++k)
      if (term_active(k, r, inside)) p.active.push_back(cat("t", k));
    pieces.push_back(p);
  }
  if (scores.empty()) return pieces;
  const Modulation sigma = modulate(scores, t, r, order);
  for (size_t i = 0; i < scores.size(); ++i) {
    const double x = scores[i];
    // The first piece whose upper end lies above x.
    const size_t at =
        static_cast<size_t>(std::upper_bound(cuts.begin(), cuts.end(), x) - cuts.begin());
    ++pieces[at].count;
    pieces[at].mean_shift += static_cast<double>(sigma.sigma[i]) - x;
  }
  for (ModulatorPiece& p : pieces) {
    p.fraction = static_cast<double>(p.count) / static_cast<double>(scores.size());
    if (p.count > 0) p.mean_shift /= static_cast<double>(p.count);
  }
  return pieces;
}

std::vector<std::vector<float>> visible_scores(const nn::AttentionMap& map) {
  const Tensor& s = map.scores;
  MMX_CHECK(s.dim() == 4, "visible_scores: expected scores [B, H, T, S], got ",
            to_string(s.shape()));
  const int64_t B = s.size(0), H = s.size(1), T = s.size(2), S = s.size(3);
  const std::vector<float> scores = s.contiguous().to_vector();
  const std::vector<float> mask = map.mask.defined()
                                      ? map.mask.expand(s.shape()).contiguous().to_vector()
                                      : std::vector<float>{};
  std::vector<std::vector<float>> out(static_cast<size_t>(H));
  size_t at = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < T; ++i)
        for (int64_t j = 0; j < S; ++j, ++at) {
          if (map.causal && j > i) continue;
          if (!mask.empty() && std::isinf(mask[at])) continue;
          out[static_cast<size_t>(h)].push_back(scores[at]);
        }
  return out;
}

ModulatorReport read_modulators(const std::string& checkpoint, const std::string& command) {
  std::unique_ptr<nn::Trainer> trainer = nn::resume_trainer(checkpoint);
  ModulatorReport report;
  report.checkpoint = checkpoint;
  report.task = trainer->task();
  report.step = trainer->step();
  for (const nn::NamedAttentionMap& named : trainer->validation_attention()) {
    const nn::AttentionMap& map = named.map;
    if (!map.multimax.t.defined()) continue;
    if (report.batch.empty()) report.batch = batch_description(report.task, map);
    std::vector<std::vector<float>> per_head = visible_scores(map);
    const bool per_head_params = map.multimax.t.dim() == 2;
    const int64_t heads = static_cast<int64_t>(per_head.size());
    if (!per_head_params) {  // one (t, r) for every head: pool their scores
      for (size_t h = 1; h < per_head.size(); ++h)
        per_head[0].insert(per_head[0].end(), per_head[h].begin(), per_head[h].end());
      per_head.resize(1);
    }
    for (size_t h = 0; h < per_head.size(); ++h) {
      ModulatorSite site;
      site.layer = named.layer;
      if (per_head_params) site.head = static_cast<int64_t>(h);
      site.heads = heads;
      site.order = map.multimax.order;
      site.t = row(map.multimax.t, static_cast<int64_t>(h));
      site.r = row(map.multimax.r, static_cast<int64_t>(h));
      site.scores = std::move(per_head[h]);
      site.pieces = modulator_pieces(site.t, site.r, site.order, site.scores);
      report.sites.push_back(std::move(site));
    }
  }
  MMX_CHECK(!report.sites.empty(), command, ": the ", report.task, " model in ", checkpoint,
            " has no MultiMax attention (", trainer->attention_name(),
            "); train one with --attn multimax");
  return report;
}

std::string site_title(const ModulatorSite& site) {
  std::string name = cat("layer ", site.layer);
  for (const auto& [prefix, what] :
       {std::pair{"enc.", "encoder self-attention"}, std::pair{"dec.", "decoder self-attention"},
        std::pair{"cross.", "cross-attention"}})
    if (site.layer.starts_with(prefix))
      name = cat(what, ", layer ", site.layer.substr(std::string(prefix).size()));
  return site.head ? cat(name, ", head ", *site.head) : name;
}

nlohmann::ordered_json to_json(const ModulatorReport& report) {
  nlohmann::ordered_json sites = nlohmann::ordered_json::array();
  const auto bound = [](double x) {
    return std::isinf(x) ? nlohmann::ordered_json() : nlohmann::ordered_json(x);
  };
  for (const ModulatorSite& s : report.sites) {
    nlohmann::ordered_json pieces = nlohmann::ordered_json::array();
    for (const ModulatorPiece& p : s.pieces)
      pieces.push_back({{"low", bound(p.low)},
                        {"high", bound(p.high)},
                        {"active", p.active},
                        {"count", p.count},
                        {"fraction", p.fraction},
                        {"mean_shift", p.mean_shift}});
    sites.push_back({{"layer", s.layer},
                     {"head", s.head ? nlohmann::ordered_json(*s.head) : nlohmann::ordered_json()},
                     {"order", s.order},
                     {"t", s.t},
                     {"r", s.r},
                     {"scores", s.scores.size()},
                     {"pieces", pieces}});
  }
  return {{"checkpoint", report.checkpoint},
          {"task", report.task},
          {"step", report.step},
          {"batch", report.batch},
          {"sites", sites}};
}

std::string to_text(const ModulatorReport& report) {
  std::string out =
      cat("MultiMax modulators of the step-", report.step, " ", report.task, " checkpoint ",
          report.checkpoint, ", on its fixed validation batch (", report.batch, ")\n");
  char line[160];
  for (const ModulatorSite& s : report.sites) {
    out +=
        cat("\n", site_title(s),
            s.head ? std::string()
                   : cat(" (one (t, r) for its ", s.heads, s.heads == 1 ? " head" : " heads", ")"),
            ": t = ", four(s.t, s.order), "  r = ", four(s.r, s.order), "  (", s.scores.size(),
            " scores)\n");
    std::snprintf(line, sizeof line, "  %-26s %-14s %9s %12s\n", "piece", "active terms",
                  "fraction", "sigma(x)-x");
    out += line;
    for (const ModulatorPiece& p : s.pieces) {
      std::string active;
      for (const std::string& a : p.active) active += cat(active.empty() ? "" : " ", a);
      std::snprintf(line, sizeof line, "  %-26s %-14s %9.4f %12s\n", interval(p).c_str(),
                    active.empty() ? "none" : active.c_str(), p.fraction,
                    p.count > 0 ? number(p.mean_shift).c_str() : "-");
      out += line;
    }
  }
  out +=
      "\n(fraction: the share of the site's scores q.k/sqrt(d_h) in the piece; sigma(x)-x: their "
      "mean\n shift from the identity, which is SoftMax; negative = pushed down)\n";
  return out;
}

}  // namespace mmx::cli
