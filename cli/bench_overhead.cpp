// `mmx bench overhead`: what MultiMax costs over SoftMax in a training step. Timed in separate
// processes (as `mmx bench train` does for its peak RSS), the two step times come from moments
// seconds apart, and on a shared machine the speed of the moment moves a step by more than the
// few percent measured here. So both models train in this one process, one step each in turn
// (which goes first alternating), and the figure is the median of each pair's ratio.

#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/bench_support.hpp"
#include "cli/command_registry.hpp"
#include "engine/thread_count.hpp"

namespace mmx::cli {

namespace {

nlohmann::ordered_json overhead_one(const bench::ReferenceConfig& c, const BenchOptions& opt) {
  bench::TimedTrainer softmax(c.gpt_config("softmax"), c.batch);
  bench::TimedTrainer multimax(c.gpt_config("multimax"), c.batch);
  std::vector<double> softmax_ms, multimax_ms, ratios;
  for (int i = 0; i < opt.warmup + opt.steps; ++i) {
    const bool softmax_first = i % 2 == 0;
    const double first = softmax_first ? softmax.step() : multimax.step();
    const double second = softmax_first ? multimax.step() : softmax.step();
    if (i < opt.warmup) continue;
    const double s = softmax_first ? first : second, m = softmax_first ? second : first;
    softmax_ms.push_back(s);
    multimax_ms.push_back(m);
    ratios.push_back(m / s);
  }
  return {{"suite", "overhead"},
          {"config", c.name},
          {"threads", max_thread_count()},
          {"pairs", opt.steps},
          {"softmax_ms_per_step", bench::round_to(bench::median(softmax_ms), 2)},
          {"multimax_ms_per_step", bench::round_to(bench::median(multimax_ms), 2)},
          {"multimax_over_softmax", bench::round_to(bench::median(ratios), 4)},
          // The same runs as `mmx bench train`'s (seed 0): its final losses after as many steps.
          {"softmax_final_loss", bench::round_to(softmax.last_loss(), 4)},
          {"multimax_final_loss", bench::round_to(multimax.last_loss(), 4)}};
}

void run_overhead_bench(const BenchOptions& opt) {
  const std::vector<bench::ReferenceConfig> configs =
      bench::reference_configs("overhead", opt.config);
  if (!opt.json)
    std::printf(
        "overhead: SoftMax and MultiMax models of one config trained in one process, a "
        "step of each in turn,\n%d pairs after %d warm-up; ratio = median over the pairs "
        "of MultiMax's step time over SoftMax's\n%-6s %7s %12s %13s %8s\n",
        opt.steps, opt.warmup, "config", "threads", "softmax ms", "multimax ms", "ratio");
  for (const bench::ReferenceConfig& c : configs) {
    const nlohmann::ordered_json row = overhead_one(c, opt);
    if (opt.json) {
      bench::print_json_line(row, opt);
      continue;
    }
    std::printf("%-6s %7d %12.2f %13.2f %7.3fx\n", c.name, row["threads"].get<int>(),
                row["softmax_ms_per_step"].get<double>(), row["multimax_ms_per_step"].get<double>(),
                row["multimax_over_softmax"].get<double>());
    std::fflush(stdout);
  }
}

const bool registered = register_bench_suite(
    "overhead", "MultiMax over SoftMax training step time: both in one process, steps alternating",
    run_overhead_bench);

}  // namespace

}  // namespace mmx::cli
