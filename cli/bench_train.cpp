// `mmx bench train`: trains the configs of the PyTorch reference
// (bench/torch_reference.py) on random tokens and prints median ms/step,
// tokens/s and peak RSS; --json prints the same keys as that script, one object per run, then
// our extras: the useful training FLOPs per token, the rate they were done at, the fp32 sgemm
// rate reached in the same run (--sgemm-n; one call after each timed step, so the steps and the
// sgemm share the load of the moment; in a forked process, so its matrices stay out of the
// peak RSS) and their ratio, the model FLOP utilisation (MFU).
//
// Peak RSS (getrusage's ru_maxrss) is a per-process high-water mark, so a run of several
// configs would report the largest so far for every later one. When more than one (config,
// attention) pair is asked for, each runs in its own child process (this binary re-executed
// through /proc/self/exe with one pair), and its JSON line is collected here.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/bench_support.hpp"
#include "cli/command_registry.hpp"
#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/precision.hpp"
#include "engine/thread_count.hpp"
#include "nn/models/gpt_config.hpp"

namespace mmx::cli {

namespace {

// Per step: each op's forward and backward ms, largest total first, then the optimizer's.
nlohmann::ordered_json profile_json(const bench::TrainingTiming& run, int steps) {
  std::vector<std::pair<std::string, autograd::OpTime>> ops(run.op_times.begin(),
                                                            run.op_times.end());
  std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) {
    return a.second.forward_ms + a.second.backward_ms > b.second.forward_ms + b.second.backward_ms;
  });
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const auto& [name, t] : ops)
    rows.push_back({{"op", name},
                    {"calls", static_cast<double>(t.calls) / steps},
                    {"forward_ms", bench::round_to(t.forward_ms / steps, 3)},
                    {"backward_ms", bench::round_to(t.backward_ms / steps, 3)}});
  return {{"ops", rows}, {"optimizer_ms", bench::round_to(run.optimizer_ms / steps, 3)}};
}

void print_profile(const nlohmann::ordered_json& r) {
  const nlohmann::ordered_json& p = r["profile"];
  const double step = r["ms_per_step"].get<double>();
  std::printf(
      "  where a %s %s step goes (ms per step, mean over the timed steps; an op's forward "
      "is the time since the op before it):\n  %-22s %7s %10s %10s %10s %7s\n",
      r["config"].get<std::string>().c_str(), r["attn"].get<std::string>().c_str(), "op", "calls",
      "forward", "backward", "total", "share");
  double sum = 0;
  auto line = [&](const std::string& name, double calls, double fwd, double bwd) {
    sum += fwd + bwd;
    std::printf("  %-22s %7.0f %10.2f %10.2f %10.2f %6.1f%%\n", name.c_str(), calls, fwd, bwd,
                fwd + bwd, 100.0 * (fwd + bwd) / step);
  };
  for (const auto& op : p["ops"])
    line(op["op"].get<std::string>(), op["calls"].get<double>(), op["forward_ms"].get<double>(),
         op["backward_ms"].get<double>());
  line("optimizer step", 1, p["optimizer_ms"].get<double>(), 0.0);
  std::printf("  %-22s %7s %10s %10s %10.2f %6.1f%% of the median step (%.2f ms)\n", "all", "", "",
              "", sum, 100.0 * sum / step, step);
}

// One (config, attention) run in this process: the reference's loop, step for step.
nlohmann::ordered_json train_one(const bench::ReferenceConfig& c, const std::string& attn,
                                 const BenchOptions& opt) {
  const nn::GPTConfig config = c.gpt_config(attn);
  // Forked before this process's first OpenMP region; one sgemm call after each timed step.
  std::unique_ptr<bench::ForkedSgemmTimer> sgemm;
  if (opt.sgemm_n > 0) sgemm = std::make_unique<bench::ForkedSgemmTimer>(opt.sgemm_n);
  const MatmulPrecisionGuard precision(parse_matmul_precision(opt.precision));
  const bench::TrainingTiming run = bench::time_training(
      config, c.batch, opt.warmup, opt.steps,
      [&] {
        if (sgemm) sgemm->time_call();
      },
      opt.profile);

  const double tokens_per_s = static_cast<double>(c.batch * c.seq) / run.ms_per_step * 1e3;
  const double flops_per_token = bench::training_flops_per_token(config, run.parameters);
  const double train_gflops = flops_per_token * tokens_per_s * 1e-9;
  nlohmann::ordered_json row = {{"engine", std::string("multimax-") + MMX_VERSION},
                                {"config", c.name},
                                {"attn", attn},
                                {"threads", max_thread_count()},
                                {"params", run.parameters},
                                {"ms_per_step", bench::round_to(run.ms_per_step, 2)},
                                {"tokens_per_s", bench::round_to(tokens_per_s, 1)},
                                {"peak_rss_mb", bench::round_to(run.peak_rss_mb, 1)},
                                {"final_loss", bench::round_to(run.final_loss, 4)},
                                {"flops_per_token", flops_per_token},
                                {"train_gflops", bench::round_to(train_gflops, 2)}};
  row["sgemm_n"] = opt.sgemm_n;
  row["sgemm_gflops"] = sgemm ? nlohmann::ordered_json(bench::round_to(sgemm->gflops(), 2))
                              : nlohmann::ordered_json(nullptr);
  row["mfu"] = sgemm ? nlohmann::ordered_json(bench::round_to(train_gflops / sgemm->gflops(), 4))
                     : nlohmann::ordered_json(nullptr);
  // Only a bf16 row says so: an fp32 row keeps exactly the keys compare_torch.py reads.
  if (opt.precision != "fp32") row["precision"] = opt.precision;
  if (opt.profile) row["profile"] = profile_json(run, opt.steps);
  return row;
}

// Runs one pair in a fresh copy of this binary, so its peak RSS is its own.
nlohmann::ordered_json train_in_child(const std::string& config, const std::string& attn,
                                      const BenchOptions& opt) {
  const auto rows = bench::run_self(
      "train", cat("bench train --json --config ", config, " --attn ", attn, " --steps ", opt.steps,
                   " --warmup ", opt.warmup, " --sgemm-n ", opt.sgemm_n, " --threads ", opt.threads,
                   " --precision ", opt.precision, opt.profile ? " --profile" : ""));
  MMX_CHECK(rows.size() == 1, "bench train: the child for ", config, "/", attn, " printed ",
            rows.size(), " rows, expected 1");
  return rows.front();
}

void print_row(const nlohmann::ordered_json& r) {
  std::printf("%-6s %-9s %7d %9lld %10.2f %10.1f %9.1f %10.4f %9.1f",
              r["config"].get<std::string>().c_str(), r["attn"].get<std::string>().c_str(),
              r["threads"].get<int>(), r["params"].get<long long>(), r["ms_per_step"].get<double>(),
              r["tokens_per_s"].get<double>(), r["peak_rss_mb"].get<double>(),
              r["final_loss"].get<double>(), r["train_gflops"].get<double>());
  if (r["mfu"].is_null())
    std::printf(" %9s %6s\n", "-", "-");
  else
    std::printf(" %9.1f %5.1f%%\n", r["sgemm_gflops"].get<double>(),
                100.0 * r["mfu"].get<double>());
}

void run_train_bench(const BenchOptions& opt) {
  const std::vector<bench::ReferenceConfig> configs = bench::reference_configs("train", opt.config);
  const std::vector<std::string> attns = bench::attention_names("train", opt.attn);

  const bool one_run = configs.size() * attns.size() == 1;
  if (!opt.json)
    std::printf(
        "train: random tokens, AdamW, %s matmuls, median of %d steps after %d warm-up%s;\n"
        "GFLOP/s = 6 x params + 6 x layers x seq x d_model per token (causal "
        "attention's unmasked half),\nMFU = that over the sgemm rate (n = %lld) "
        "timed between the steps\n"
        "%-6s %-9s %7s %9s %10s %10s %9s %10s %9s %9s %6s\n",
        opt.precision.c_str(), opt.steps, opt.warmup, one_run ? "" : ", one process per row",
        static_cast<long long>(opt.sgemm_n), "config", "attn", "threads", "params", "ms/step",
        "tokens/s", "peak MB", "final loss", "GFLOP/s", "sgemm", "MFU");
  for (const bench::ReferenceConfig& c : configs)
    for (const std::string& attn : attns) {
      const nlohmann::ordered_json row =
          one_run ? train_one(c, attn, opt) : train_in_child(c.name, attn, opt);
      if (opt.json) {
        bench::print_json_line(row, opt);
      } else {
        print_row(row);
        if (row.contains("profile")) print_profile(row);
        std::fflush(stdout);
      }
    }
}

const bool registered = register_bench_suite(
    "train", "GPT training steps (tiny/small, softmax/multimax) as the PyTorch reference",
    run_train_bench);

}  // namespace

}  // namespace mmx::cli
