#include "cli/training/compare_summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/error.hpp"

namespace mmx::cli {

namespace {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// The training time of one step in each evaluation interval (evaluation and saving excluded);
// the median, because on a shared machine one slow interval says nothing about the method.
double ms_per_step(const CompareRun& run) {
  std::vector<double> ms;
  for (const nn::EvalRecord& e : run.evals)
    if (e.items_per_s > 0) ms.push_back(1000.0 * run.items_per_step / e.items_per_s);
  return ms.empty() ? NAN : median(ms);
}

std::string format_spread(const Spread& s, int decimals) {
  char buf[64];
  if (s.n > 1)
    std::snprintf(buf, sizeof buf, "%.*f ± %.*f", decimals, s.mean, decimals, s.std);
  else
    std::snprintf(buf, sizeof buf, "%.*f", decimals, s.mean);
  return buf;
}

std::string per_layer(const std::vector<double>& values) {
  std::string out;
  char buf[32];
  for (double v : values) {
    std::snprintf(buf, sizeof buf, out.empty() ? "%.2f" : " %.2f", v);
    out += buf;
  }
  return out;
}

// Pads to `width` display columns; "±" is one column but two bytes.
std::string pad(const std::string& text, size_t width) {
  size_t columns = 0;
  for (unsigned char c : text) columns += (c & 0xC0) != 0x80;
  return text + std::string(width > columns ? width - columns : 0, ' ');
}

nlohmann::json spread_json(const Spread& s) {
  return {{"mean", s.mean}, {"std", s.std}, {"min", s.min}, {"max", s.max}, {"n", s.n}};
}

}  // namespace

Spread spread_of(const std::vector<double>& values) {
  MMX_CHECK(!values.empty(), "compare: no values to summarise");
  Spread s;
  s.n = static_cast<int64_t>(values.size());
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  for (double v : values) s.mean += v / static_cast<double>(s.n);
  if (s.n > 1) {
    double squares = 0;
    for (double v : values) squares += (v - s.mean) * (v - s.mean);
    s.std = std::sqrt(squares / static_cast<double>(s.n - 1));
  }
  return s;
}

std::vector<KindSummary> summarize_runs(const std::vector<CompareRun>& runs) {
  std::vector<std::string> kinds;
  for (const CompareRun& r : runs) {
    MMX_CHECK(!r.evals.empty(), "compare: run ", r.dir.string(), " has no evaluation");
    if (std::find(kinds.begin(), kinds.end(), r.attention) == kinds.end())
      kinds.push_back(r.attention);
  }
  std::vector<KindSummary> summaries;
  for (const std::string& kind : kinds) {
    KindSummary k;
    k.attention = kind;
    std::vector<double> loss, metric, ms;
    int64_t n = 0;
    for (const CompareRun& r : runs) {
      if (r.attention != kind) continue;
      const nn::EvalRecord& last = r.evals.back();
      if (n++ == 0) {
        k.layers = last.attention_layers;
        k.sparsity.assign(last.sparsity.size(), 0.0);
        k.multimodality.assign(last.multimodality.size(), 0.0);
        k.blocks = last.blocks;
        k.token_similarity.assign(last.token_similarity.size(), 0.0);
        if (last.metric) k.metric_name = last.metric->name;
      }
      MMX_CHECK(last.attention_layers == k.layers && last.sparsity.size() == k.sparsity.size() &&
                    last.multimodality.size() == k.multimodality.size() &&
                    last.blocks == k.blocks &&
                    (last.metric ? last.metric->name : "") == k.metric_name,
                "compare: the runs of ", kind, " report different layers or metrics (",
                r.dir.string(), ")");
      loss.push_back(last.val_loss);
      if (last.metric) metric.push_back(last.metric->value);
      ms.push_back(ms_per_step(r));
      for (size_t l = 0; l < k.sparsity.size(); ++l) {
        k.sparsity[l] += last.sparsity[l];
        k.multimodality[l] += last.multimodality[l];
      }
      for (size_t b = 0; b < k.token_similarity.size(); ++b)
        k.token_similarity[b] += last.token_similarity[b];
    }
    for (double& v : k.sparsity) v /= static_cast<double>(n);
    for (double& v : k.multimodality) v /= static_cast<double>(n);
    for (double& v : k.token_similarity) v /= static_cast<double>(n);
    k.val_loss = spread_of(loss);
    if (!metric.empty()) k.metric = spread_of(metric);
    k.ms_per_step = spread_of(ms);
    summaries.push_back(std::move(k));
  }
  return summaries;
}

std::string format_compare_table(const std::vector<KindSummary>& summaries, int64_t seeds) {
  MMX_CHECK(!summaries.empty(), "compare: nothing to tabulate");
  const std::string metric = summaries.front().metric_name;
  const bool measures = !summaries.front().layers.empty();
  const bool smoothing = !summaries.front().blocks.empty();
  // The S and M columns are as wide as their longest entry (mt has six layers) plus a gap, and
  // the name column as its longest name ("multimax+logits").
  size_t s_width = 22, name_width = 11;
  for (const KindSummary& k : summaries) {
    s_width = std::max(s_width, per_layer(k.sparsity).size() + 3);
    name_width = std::max(name_width, k.attention.size() + 2);
  }
  std::string out =
      pad("attention", name_width) + pad("val loss", 18) + (metric.empty() ? "" : pad(metric, 16)) +
      "ms/step" +
      (measures ? "   " + pad("S per layer", s_width) +
                      (smoothing ? pad("M per layer", s_width) + "cos per block" : "M per layer")
                : "") +
      "\n";
  for (const KindSummary& k : summaries) {
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.1f", k.ms_per_step.mean);
    out += pad(k.attention, name_width) + pad(format_spread(k.val_loss, 4), 18) +
           (metric.empty() ? "" : pad(k.metric ? format_spread(*k.metric, 2) : "-", 16)) +
           (measures ? pad(ms, 10) + pad(per_layer(k.sparsity), s_width) +
                           (smoothing ? pad(per_layer(k.multimodality), s_width) +
                                            per_layer(k.token_similarity)
                                      : per_layer(k.multimodality))
                     : ms) +
           "\n";
  }
  const auto names = [](const std::vector<std::string>& list) {
    std::string joined;
    for (const std::string& l : list) joined += (joined.empty() ? "" : " ") + l;
    return joined;
  };
  std::string measures_note =
      measures ? "S, M: mean attention sparsity and multi-modality per layer [" +
                     names(summaries.front().layers) + "], higher = more"
               : "S, M: this task's evaluation does not report attention measures";
  if (smoothing)
    measures_note += ";\n cos: mean pairwise cosine similarity of the tokens after each block [" +
                     names(summaries.front().blocks) + "], 1 = all alike (over-smoothing)";
  const std::string spread = seeds > 1
                                 ? "mean ± sample std over " + std::to_string(seeds) + " seeds"
                                 : "one seed, no spread";
  char note[192];
  std::snprintf(note, sizeof note,
                "(final evaluation; %s; ms/step: median training step of each run, mean over "
                "seeds;\n ",
                spread.c_str());
  return out + note + measures_note + ")\n";
}

nlohmann::json compare_json(const std::string& task, const nlohmann::json& options,
                            const std::vector<CompareRun>& runs,
                            const std::vector<KindSummary>& summaries) {
  nlohmann::json j = {{"task", task}, {"options", options}, {"spread", "sample std (n - 1)"}};
  j["summary"] = nlohmann::json::array();
  for (const KindSummary& k : summaries) {
    nlohmann::json s = {{"attention", k.attention},
                        {"val_loss", spread_json(k.val_loss)},
                        {"ms_per_step", spread_json(k.ms_per_step)},
                        {"attention_layers", k.layers},
                        {"attention_sparsity", k.sparsity},
                        {"attention_multimodality", k.multimodality},
                        {"blocks", k.blocks},
                        {"token_similarity", k.token_similarity}};
    if (k.metric) s["metric"] = {{"name", k.metric_name}, {"value", spread_json(*k.metric)}};
    j["summary"].push_back(std::move(s));
  }
  j["runs"] = nlohmann::json::array();
  for (const CompareRun& r : runs)
    j["runs"].push_back({{"attention", r.attention},
                         {"seed", r.seed},
                         {"dir", r.dir.string()},
                         {"ms_per_step", ms_per_step(r)},
                         {"final", r.evals.back().to_json()}});
  return j;
}

}  // namespace mmx::cli
