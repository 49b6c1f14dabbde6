// The figures of `mmx modulators`: each MultiMax site's learned sigma(x) against the identity,
// its shift sigma(x) - x, and the histogram of the scores it saw; and, from the training log,
// the paths of every (t, r) over the run.
#pragma once

#include <filesystem>
#include <vector>

#include "cli/inspect/modulator_report.hpp"
#include "nn/layers/multimax_sites.hpp"

namespace mmx::cli {

// Writes one PNG at `path` (its folder created if missing): a column per site of the report,
// sigma(x) and the identity on top, sigma(x) - x in the middle, the scores' histogram beneath,
// the breakpoints r marked on all three.
void write_modulator_figure(const ModulatorReport& report, const std::filesystem::path& path);

// One evaluation's (t, r) of every site, from the training log.
struct ModulatorSnapshot {
  int64_t step = 0;
  std::vector<nn::MultiMaxSiteValues> sites;
};

// Writes one PNG at `path`: a panel per site (and head, for per-head parameters), one line per
// parameter in use (t solid, r dashed) against the training step. `title` heads the figure.
void write_trajectory_figure(const std::vector<ModulatorSnapshot>& snapshots,
                             const std::string& title, const std::filesystem::path& path);

}  // namespace mmx::cli
