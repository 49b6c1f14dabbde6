#include "cli/command_registry.hpp"

#include <cstdio>
#include <map>
#include <optional>
#include <vector>

#include "cli/busy_core.hpp"
#include "cli/threads.hpp"

namespace mmx::cli {

namespace {
std::vector<CommandSetup>& commands() {
  static std::vector<CommandSetup> list;
  return list;
}
struct Suite {
  std::string description;
  BenchSuite run;
};
std::map<std::string, Suite>& suites() {
  static std::map<std::string, Suite> map;
  return map;
}
}  // namespace

bool register_command(CommandSetup setup) {
  commands().push_back(std::move(setup));
  return true;
}

void add_registered_commands(CLI::App& app) {
  for (const CommandSetup& setup : commands()) setup(app);
}

bool register_bench_suite(const std::string& name, const std::string& description, BenchSuite run) {
  suites()[name] = {description, std::move(run)};
  return true;
}

namespace {
// `mmx bench [suite...]`: runs the named suites, or all of them.
const bool bench_registered = register_command([](CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Benchmarks that print their figures (medians)");
  auto names = std::make_shared<std::vector<std::string>>();
  auto opt = std::make_shared<BenchOptions>();
  std::string help = "Suites to run (default: all):";
  for (const auto& [name, suite] : suites()) help += "\n  " + name + ": " + suite.description;
  cmd->add_option("suites", *names, help);
  cmd->add_option("--repeats", opt->repeats, "Timed repetitions per measurement")
      ->check(CLI::Range(1, 100000));
  add_threads_option(cmd, opt->threads);
  cmd->add_flag("--busy-core", opt->busy_core,
                "Run the suites with a busy-loop process holding one core, as another job "
                "would (to measure a shared machine)");
  cmd->add_flag("--json", opt->json, "One JSON object per row instead of a table");
  cmd->add_option("--config", opt->config, "train, sample, overhead: the reference config")
      ->check(CLI::IsMember({"tiny", "small", "all"}));
  cmd->add_option("--attn", opt->attn, "train, scaling, sample: attention function")
      ->check(CLI::IsMember({"softmax", "multimax", "all"}));
  cmd->add_option("--steps", opt->steps,
                  "train, scaling: timed steps; overhead: timed pairs of steps")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--warmup", opt->warmup, "train, scaling, overhead: untimed steps before timing")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--sgemm-n", opt->sgemm_n,
                  "train: side of the square sgemm timed for MFU (0: skip)")
      ->check(CLI::Range(int64_t{0}, int64_t{16384}));
  cmd->add_option("--precision", opt->precision,
                  "train: matmul operand precision (bf16: bf16 operands, fp32 accumulation)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  cmd->add_flag("--profile", opt->profile,
                "train: also time every op of the step (forward, backward) and the optimizer");
  cmd->add_option("--seqs", opt->seqs, "scaling: context lengths, comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(int64_t{2}, int64_t{8192}));
  cmd->add_option("--d-models", opt->d_models, "scaling: model widths, comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(int64_t{4}, int64_t{4096}));
  cmd->add_option("--tokens", opt->sample_tokens,
                  "sample: tokens per round (0: the context length - 1)")
      ->check(CLI::Range(int64_t{0}, int64_t{100000}));
  cmd->add_option("--rounds", opt->rounds, "sample: rounds, cached and uncached alternating")
      ->check(CLI::Range(1, 1000));
  cmd->callback([names, opt] {
    apply_threads(opt->threads);
    std::vector<std::string> run = *names;
    if (run.empty())
      for (const auto& [name, suite] : suites()) run.push_back(name);
    for (const std::string& name : run)
      if (suites().find(name) == suites().end())
        throw CLI::ValidationError("bench", "unknown suite '" + name + "'; see mmx bench --help");
    // On stderr, so --json output stays one object per line.
    std::optional<BusyCore> busy;
    if (opt->busy_core) {
      busy.emplace();
      std::fprintf(stderr, "busy core: process %d spins on one core while the suites run\n",
                   static_cast<int>(busy->pid()));
    }
    for (const std::string& name : run) suites().at(name).run(*opt);
    if (busy) {
      const int pid = busy->pid();
      std::fprintf(stderr, "busy core: process %d ended after %.1f s of CPU\n", pid, busy->stop());
    }
  });
});
}  // namespace

}  // namespace mmx::cli
