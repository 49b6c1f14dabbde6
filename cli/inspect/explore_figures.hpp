// The figures of `mmx explore --plot DIR`: MultiMax's modulator against the identity, every
// mapping's outputs on the 2-simplex along input paths, and the sparsity / multi-modality plane.
#pragma once

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "cli/inspect/explore_report.hpp"

namespace mmx::cli {

// Writes modulator.png, simplex.png and tradeoff.png into `dir` (created if missing) for the
// MultiMax setting and temperatures in `options`; returns the paths written, in that order.
// The breakpoints in use (r0, r1; order 2 also r2, r3) with their labels, merged when two share
// a position: "r₀ = r₂ = 0".
std::vector<std::pair<double, std::string>> breakpoint_labels(const std::array<float, 4>& r,
                                                              int order);

std::vector<std::string> write_explore_figures(const std::string& dir,
                                               const ExploreOptions& options);

}  // namespace mmx::cli
