// The figure of `mmx compare`: validation loss (and the task metric, when there is one) against
// step, one colour per attention kind: each seed a thin line, their mean a thick one.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cli/training/compare_summary.hpp"

namespace mmx::cli {

// Writes `png`; runs of one kind must have evaluated at the same steps (same budget).
void write_compare_curves(const std::vector<CompareRun>& runs, const std::filesystem::path& png,
                          const std::string& title);

}  // namespace mmx::cli
