#include "cli/training/compare_paired.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "engine/error.hpp"

namespace mmx::cli {

namespace {

// The final figure of each seed's run of one arm.
struct SeedFigures {
  std::map<uint64_t, double> val_loss, metric;
};

std::string signed_number(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.*f", decimals, v);
  return buf;
}

// What the numbers say in words; "lower"/"higher" only where the interval excludes 0.
std::string verdict(const metrics::PairedDifference& d) {
  if (!d.interval) return "one seed: no interval, cannot tell";
  if (!d.shows_difference()) return "no difference in these runs";
  return d.mean < 0 ? "lower than softmax" : "higher than softmax";
}

// `text` padded to `width` columns, or followed by two spaces when longer.
std::string column(const std::string& text, size_t width) {
  return text + std::string(text.size() + 2 > width ? 2 : width - text.size(), ' ');
}

// The columns after the arm's name: figure, mean, interval, p, then the verdict.
constexpr size_t kFigureWidth = 10, kMeanWidth = 11, kIntervalWidth = 22, kPWidth = 9;

std::string table_row(const std::string& arm, size_t arm_width, const std::string& figure,
                      const metrics::PairedDifference& d, int decimals) {
  char p[32];
  std::snprintf(p, sizeof p, "%.3g", d.sign_flip.p_value);
  const std::string interval = d.interval ? cat("[", signed_number(d.interval->low, decimals), ", ",
                                                signed_number(d.interval->high, decimals), "]")
                                          : "none (one seed)";
  return column(arm, arm_width) + column(figure, kFigureWidth) +
         column(signed_number(d.mean, decimals), kMeanWidth) + column(interval, kIntervalWidth) +
         column(p, kPWidth) + verdict(d) + "\n";
}

nlohmann::json difference_json(const metrics::PairedDifference& d) {
  return {{"n", d.n},
          {"mean", d.mean},
          {"sd", d.sd},
          {"interval", d.interval ? nlohmann::json::array({d.interval->low, d.interval->high})
                                  : nlohmann::json(nullptr)},
          {"p_value", d.sign_flip.p_value},
          {"p_exact", d.sign_flip.exact},
          {"verdict", verdict(d)}};
}

std::vector<double> values_of(const std::map<uint64_t, double>& by_seed) {
  std::vector<double> values;
  for (const auto& [seed, v] : by_seed) values.push_back(v);
  return values;
}

}  // namespace

std::optional<PairedComparison> pair_with_baseline(const std::vector<CompareRun>& runs) {
  std::vector<std::string> arms;
  std::map<std::string, SeedFigures> figures;
  PairedComparison paired;
  for (const CompareRun& r : runs) {
    MMX_CHECK(!r.evals.empty(), "compare: run ", r.dir.string(), " has no evaluation");
    if (std::find(arms.begin(), arms.end(), r.attention) == arms.end()) arms.push_back(r.attention);
    const nn::EvalRecord& last = r.evals.back();
    figures[r.attention].val_loss[r.seed] = last.val_loss;
    if (last.metric) {
      figures[r.attention].metric[r.seed] = last.metric->value;
      paired.metric_name = last.metric->name;
    }
  }
  const auto baseline = figures.find(kPairedBaseline);
  if (baseline == figures.end() || arms.size() < 2) return std::nullopt;
  const SeedFigures& base = baseline->second;
  for (const std::string& arm : arms) {
    if (arm == kPairedBaseline) continue;
    const SeedFigures& f = figures[arm];
    MMX_CHECK(f.val_loss.size() == base.val_loss.size() &&
                  std::equal(f.val_loss.begin(), f.val_loss.end(), base.val_loss.begin(),
                             [](const auto& a, const auto& b) { return a.first == b.first; }),
              "compare: ", arm, " was not run with the seeds of ", kPairedBaseline,
              ", so it cannot be paired with it");
    PairedArm p{arm, metrics::paired_difference(values_of(f.val_loss), values_of(base.val_loss)),
                std::nullopt};
    if (!f.metric.empty() && f.metric.size() == base.metric.size())
      p.metric = metrics::paired_difference(values_of(f.metric), values_of(base.metric));
    paired.arms.push_back(std::move(p));
  }
  return paired;
}

std::string format_paired_table(const PairedComparison& paired) {
  MMX_CHECK(!paired.arms.empty(), "compare: no arm to pair with ", kPairedBaseline);
  size_t arm_width = 11;
  for (const PairedArm& a : paired.arms) arm_width = std::max(arm_width, a.attention.size() + 2);
  std::string out =
      cat("paired with softmax, seed by seed (same initial weights and data order):\n",
          column("arm", arm_width), column("figure", kFigureWidth), column("mean diff", kMeanWidth),
          column("95% interval", kIntervalWidth), column("p", kPWidth), "in words\n");
  for (const PairedArm& a : paired.arms) {
    out += table_row(a.attention, arm_width, "val loss", a.val_loss, 4);
    if (a.metric) out += table_row(a.attention, arm_width, paired.metric_name, *a.metric, 2);
  }
  const metrics::PairedDifference& first = paired.arms.front().val_loss;
  const int64_t n = first.n;
  if (n == 1)
    return out +
           "(one seed: a single difference has no spread, so there is no interval and the "
           "sign-flip test\n cannot go below p = 1; run --seeds 2 or more)\n";
  char note[256];
  if (first.sign_flip.exact)
    std::snprintf(note, sizeof note,
                  "exact over all 2^%ld sign patterns; the smallest p %ld seeds can give is %.3g",
                  n, n, 2.0 / static_cast<double>(uint64_t{1} << n));
  else
    std::snprintf(note, sizeof note, "estimated from 2^%ld random sign patterns",
                  metrics::kExactSignFlipMaxN);
  return out + cat("(mean diff: mean of the ", n,
                   " per-seed differences arm - softmax; 95% interval: Student's t, ", n - 1,
                   " degrees of freedom;\n p: two-sided sign-flip permutation test, ", note, ")\n");
}

nlohmann::json paired_json(const PairedComparison& paired) {
  nlohmann::json j = {{"baseline", kPairedBaseline},
                      {"level", 0.95},
                      {"interval", "Student's t, n - 1 degrees of freedom"},
                      {"p_value", "two-sided sign-flip permutation test"}};
  if (!paired.metric_name.empty()) j["metric"] = paired.metric_name;
  j["arms"] = nlohmann::json::array();
  for (const PairedArm& a : paired.arms) {
    nlohmann::json arm = {{"attention", a.attention}, {"val_loss", difference_json(a.val_loss)}};
    if (a.metric) arm["metric"] = difference_json(*a.metric);
    j["arms"].push_back(std::move(arm));
  }
  return j;
}

}  // namespace mmx::cli
