// `mmx explore`: what MultiMax and its peers do to one score vector (distributions, the
// paper's sparsity and multi-modality measures, MultiMax's gradients), and --plot figures.
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

#include "cli/command_registry.hpp"
#include "cli/inspect/explore_figures.hpp"
#include "cli/inspect/explore_report.hpp"
#include "cli/inspect/modulator_report.hpp"
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
  std::string checkpoint;  // non-empty: (t, r, order) of a trained model's site
  int64_t layer = 0;
  int64_t head = 0;
  std::string site;  // mt only: encoder | decoder | cross
};

// The layer names of an mt model's three attentions (nn::EvalRecord::attention_layers).
const std::map<std::string, std::string> kMtSitePrefix = {
    {"encoder", "enc."}, {"decoder", "dec."}, {"cross", "cross."}};

// The trained (t, r, order) that --ckpt, --layer, --head and --site pick; errors name the
// valid range.
ModulatorSite trained_site(const ExploreArgs& a, bool head_given) {
  ModulatorReport report = read_modulators(a.checkpoint, "explore");
  const bool mt = report.task == "mt";
  MMX_CHECK(mt || a.site.empty(), "explore: --site names one of an mt model's attentions; ",
            a.checkpoint, " holds a '", report.task, "' run (drop --site)");
  MMX_CHECK(!mt || !a.site.empty(), "explore: ", a.checkpoint,
            " holds an mt model; name its attention with --site encoder|decoder|cross");
  const std::string prefix = mt ? kMtSitePrefix.at(a.site) : "";
  std::vector<ModulatorSite> layers;  // this site's layers (each head, when per head)
  for (ModulatorSite& s : report.sites)
    if (s.layer.starts_with(prefix) && (mt || s.layer.find('.') == std::string::npos))
      layers.push_back(std::move(s));
  const std::string where = mt ? cat("the ", a.site, " attention of ") : std::string();
  MMX_CHECK(!layers.empty(), "explore: ", where, "the model in ", a.checkpoint,
            " has no MultiMax; pick another --site");
  const int64_t count = std::stoll(layers.back().layer.substr(prefix.size())) + 1;
  std::vector<const ModulatorSite*> chosen;
  for (const ModulatorSite& s : layers)
    if (s.layer == prefix + std::to_string(a.layer)) chosen.push_back(&s);
  MMX_CHECK(!chosen.empty(), "explore: --layer ", a.layer, " is out of range; ", where,
            "the model in ", a.checkpoint, " has MultiMax layers 0..", count - 1);
  const int64_t heads = chosen.front()->heads;
  MMX_CHECK(a.head < heads, "explore: --head ", a.head, " is out of range; layer ", a.layer,
            " has heads 0..", heads - 1);
  if (!chosen.front()->head) {  // one (t, r) for every head
    if (head_given)
      std::cerr << "explore: layer " << a.layer << " shares one (t, r) across its " << heads
                << " heads; --head " << a.head << " uses it too\n";
    return *chosen.front();
  }
  return *chosen[static_cast<size_t>(a.head)];
}

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
  auto* t =
      cmd->add_option("--t", args->t, "MultiMax t0,t1,t2,t3 (default " + join(kDefaultT) + ")");
  auto* r =
      cmd->add_option("--r", args->r, "MultiMax r0,r1,r2,r3 (default " + join(kDefaultR) + ")");
  auto* order =
      cmd->add_option("--order", args->order, "MultiMax order: 1 (linear terms) or 2 (all four)")
          ->check(CLI::IsMember({1, 2}))
          ->capture_default_str();
  auto* ckpt = cmd->add_option("--ckpt", args->checkpoint,
                               "Use the (t, r) and order a trained model learned (the folder "
                               "`mmx train --out` wrote) instead of --t, --r, --order");
  ckpt->check(CLI::ExistingDirectory);
  auto* layer =
      cmd->add_option("--layer", args->layer, "With --ckpt: the attention layer (default 0)")
          ->check(CLI::NonNegativeNumber);
  auto* head = cmd->add_option("--head", args->head,
                               "With --ckpt: the head, for per-head (t, r) (default 0)")
                   ->check(CLI::NonNegativeNumber);
  auto* site = cmd->add_option("--site", args->site,
                               "With --ckpt of an mt model: which attention, encoder (self), "
                               "decoder (self) or cross")
                   ->check(CLI::IsMember({"encoder", "decoder", "cross"}));
  cmd->add_option("--temperatures", args->temperatures, "SoftMax temperatures, comma-separated")
      ->capture_default_str();
  cmd->add_option("--eps", args->eps, "Relevance threshold of the measures")->capture_default_str();
  auto* target = cmd->add_option("--target", args->target,
                                 "K in the loss -log p[K], 0-based (default: the largest input)")
                     ->check(whole_number(0, INT64_MAX));
  cmd->add_flag("--json", args->json, "Print one JSON object instead of tables");
  cmd->add_option("--plot", args->plot_dir, "Also write the PNG figures into this directory");
  cmd->callback([args, target, t, r, order, ckpt, layer, head, site] {
    for (const CLI::Option* o : {t, r, order})
      MMX_CHECK(ckpt->count() == 0 || o->count() == 0, "explore: ", o->get_name(),
                " and --ckpt both set MultiMax; --ckpt takes the trained model's, so drop ",
                o->get_name(), " or --ckpt");
    for (const CLI::Option* o : {layer, head, site})
      MMX_CHECK(ckpt->count() > 0 || o->count() == 0, "explore: ", o->get_name(),
                " picks a site of a trained model; give --ckpt DIR too");
    ExploreOptions options;
    options.values = args->values_file.empty() ? parse_floats(args->values, "--values")
                                               : read_values_file(args->values_file);
    if (!args->t.empty()) options.t = parse_four(args->t, "--t");
    if (!args->r.empty()) options.r = parse_four(args->r, "--r");
    options.order = args->order;
    options.temperatures = parse_floats(args->temperatures, "--temperatures");
    options.eps = args->eps;
    if (target->count() > 0) options.target = args->target;
    std::optional<ModulatorSite> trained;
    if (ckpt->count() > 0) {
      trained = trained_site(*args, head->count() > 0);
      options.t = trained->t;
      options.r = trained->r;
      options.order = trained->order;
    }
    const ExploreReport report = explore(options);
    if (args->json) {
      nlohmann::ordered_json json = to_json(report);
      if (trained)
        json["trained"] = {{"checkpoint", args->checkpoint},
                           {"layer", trained->layer},
                           {"head", trained->head ? nlohmann::ordered_json(*trained->head)
                                                  : nlohmann::ordered_json()},
                           {"order", trained->order},
                           {"t", trained->t},
                           {"r", trained->r}};
      std::cout << json.dump(2) << "\n";
    } else {
      if (trained)
        std::cout << "MultiMax of " << site_title(*trained) << " of " << args->checkpoint
                  << " (order " << trained->order << ")\n\n";
      std::cout << to_text(report);
    }
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
