// `mmx explore`: what MultiMax and its peers do to one score vector (distributions, the
// paper's sparsity and multi-modality measures, MultiMax's gradients), and --plot figures.
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/command_registry.hpp"
#include "cli/inspect/explore_figures.hpp"
#include "cli/inspect/explore_report.hpp"
#include "cli/whole_number.hpp"
#include "engine/error.hpp"

namespace mmx::cli {

namespace {

std::string join(const std::array<float, 4>& v) {
  std::string out;
  char buffer[32];
  for (float x : v) {
    std::snprintf(buffer, sizeof buffer, "%s%g", out.empty() ? "" : ",", static_cast<double>(x));
    out += buffer;
  }
  return out;
}

std::array<float, 4> parse_four(const std::string& text, const std::string& what) {
  const std::vector<float> v = parse_floats(text, what);
  MMX_CHECK(v.size() == 4, what, ": expected 4 comma-separated values (one per term), got ",
            v.size());
  return {v[0], v[1], v[2], v[3]};
}

struct ExploreArgs {
  std::string values = "10,8,-1";
  std::string values_file;  // empty: --values
  std::string t, r;         // empty: the documented default
  int order = 2;
  std::string temperatures = "0.5,1,2";
  float eps = 0.0f;
  int64_t target = 0;  // read only when --target is given
  bool json = false;
  std::string plot_dir;
};

const bool explore_registered = register_command([](CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "explore",
      "Apply SoftMax, SparseMax, EntMax-1.5, EvSoftMax and MultiMax to one score vector");
  auto args = std::make_shared<ExploreArgs>();
  auto* values =
      cmd->add_option("--values", args->values, "Scores, comma-separated")->capture_default_str();
  cmd->add_option("--values-file", args->values_file,
                  "Read the scores from this file ('-': stdin): whitespace/comma-separated "
                  "numbers or a JSON array, for vectors too long for a command line")
      ->excludes(values);
  cmd->add_option("--t", args->t, "MultiMax t0,t1,t2,t3 (default " + join(kDefaultT) + ")");
  cmd->add_option("--r", args->r, "MultiMax r0,r1,r2,r3 (default " + join(kDefaultR) + ")");
  cmd->add_option("--order", args->order, "MultiMax order: 1 (linear terms) or 2 (all four)")
      ->check(CLI::IsMember({1, 2}))
      ->capture_default_str();
  cmd->add_option("--temperatures", args->temperatures, "SoftMax temperatures, comma-separated")
      ->capture_default_str();
  cmd->add_option("--eps", args->eps, "Relevance threshold of the measures")->capture_default_str();
  auto* target = cmd->add_option("--target", args->target,
                                 "K in the loss -log p[K], 0-based (default: the largest input)")
                     ->check(whole_number(0, INT64_MAX));
  cmd->add_flag("--json", args->json, "Print one JSON object instead of tables");
  cmd->add_option("--plot", args->plot_dir, "Also write the PNG figures into this directory");
  cmd->callback([args, target] {
    ExploreOptions options;
    options.values = args->values_file.empty() ? parse_floats(args->values, "--values")
                                               : read_values_file(args->values_file);
    if (!args->t.empty()) options.t = parse_four(args->t, "--t");
    if (!args->r.empty()) options.r = parse_four(args->r, "--r");
    options.order = args->order;
    options.temperatures = parse_floats(args->temperatures, "--temperatures");
    options.eps = args->eps;
    if (target->count() > 0) options.target = args->target;
    const ExploreReport report = explore(options);
    if (args->json)
      std::cout << to_json(report).dump(2) << "\n";
    else
      std::cout << to_text(report);
    if (!args->plot_dir.empty()) {
      // With --json, stdout stays one JSON object: the paths go to stderr.
      std::ostream& out = args->json ? std::cerr : std::cout;
      out << (args->json ? "" : "\n") << "figures:\n";
      for (const std::string& path : write_explore_figures(args->plot_dir, options))
        out << "  " << path << "\n";
    }
  });
});

}  // namespace

}  // namespace mmx::cli
