// `mmx bench train`: trains the configs of the PyTorch reference
// (/work/shared/anchors/torch_reference.py) on random tokens and prints median ms/step,
// tokens/s and peak RSS; --json prints the same keys as that script, one object per run.
//
// Peak RSS (getrusage's ru_maxrss) is a per-process high-water mark, so a run of several
// configs would report the largest so far for every later one. When more than one (config,
// attention) pair is asked for, each runs in its own child process (this binary re-executed
// through /proc/self/exe with one pair), and its JSON line is collected here.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <omp.h>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

#include "cli/command_registry.hpp"
#include "engine/error.hpp"
#include "nn/gpt.hpp"
#include "nn/optim/adamw.hpp"

namespace mmx::cli {

namespace {

struct TrainBenchConfig {
  const char* name;
  int64_t vocab, d_model, layers, heads, seq, batch;
};

// The reference script's CONFIGS, field for field.
constexpr std::array<TrainBenchConfig, 2> kConfigs = {{
    {"tiny", 96, 128, 4, 4, 128, 16},
    {"small", 96, 256, 6, 8, 256, 8},
}};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];  // the upper middle, as the reference's times[len // 2]
}

// Python's round(x, digits): dividing by a power of ten gives the double nearest the decimal.
double round_to(double x, int digits) {
  const double scale = std::pow(10.0, digits);
  return static_cast<double>(std::llround(x * scale)) / scale;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

// One (config, attention) run in this process: the reference's loop, step for step.
nlohmann::ordered_json train_one(const TrainBenchConfig& c, const std::string& attn,
                                 const BenchOptions& opt) {
  nn::GPTConfig config;
  config.vocab = c.vocab;
  config.d_model = c.d_model;
  config.layers = c.layers;
  config.heads = c.heads;
  config.seq_len = c.seq;
  config.attention = nn::parse_attention_kind(attn);
  config.multimax_order = 2;  // the reference's second-order modulator, shared by the heads
  nn::GPT model(config, /*seed=*/0);
  nn::AdamW optimizer(model.named_parameters(), nn::AdamWOptions{});  // lr 1e-3, .9/.95, wd .1

  Generator gen(0);
  const size_t n = static_cast<size_t>(c.batch * c.seq);
  std::vector<int64_t> ids(n), targets(n);
  const auto vocab = static_cast<uint64_t>(c.vocab);
  for (int64_t& id : ids) id = static_cast<int64_t>(gen.below(vocab));
  for (int64_t& t : targets) t = static_cast<int64_t>(gen.below(vocab));

  std::vector<double> times_ms;
  float final_loss = 0.0f;
  for (int i = 0; i < opt.warmup + opt.steps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    Tensor loss = model.loss(ids, targets, c.batch, c.seq);
    loss.backward();
    optimizer.step();
    optimizer.zero_grad();
    final_loss = loss.item();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
    if (i >= opt.warmup) times_ms.push_back(ms);
  }
  const double ms = median(times_ms);
  return {{"engine", std::string("multimax-") + MMX_VERSION},
          {"config", c.name},
          {"attn", attn},
          {"threads", omp_get_max_threads()},
          {"params", model.parameter_count()},
          {"ms_per_step", round_to(ms, 2)},
          {"tokens_per_s", round_to(static_cast<double>(c.batch * c.seq) / ms * 1e3, 1)},
          {"peak_rss_mb", round_to(peak_rss_mb(), 1)},
          {"final_loss", round_to(final_loss, 4)}};
}

// Runs one pair in a fresh copy of this binary, so its peak RSS is its own.
nlohmann::ordered_json train_in_child(const std::string& config, const std::string& attn,
                                      const BenchOptions& opt) {
  std::array<char, 4096> self{};
  const ssize_t len = readlink("/proc/self/exe", self.data(), self.size() - 1);
  MMX_CHECK(len > 0, "bench train: cannot find this executable through /proc/self/exe");
  const std::string command = cat("'", std::string(self.data(), static_cast<size_t>(len)),
                                  "' bench train --json --config ", config, " --attn ", attn,
                                  " --steps ", opt.steps, " --warmup ", opt.warmup,
                                  " --threads ", omp_get_max_threads());
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  MMX_CHECK(pipe != nullptr, "bench train: cannot start '", command, "'");
  std::string out;
  std::array<char, 512> buffer{};
  while (fgets(buffer.data(), static_cast<int>(buffer.size()), pipe.get())) out += buffer.data();
  const int status = pclose(pipe.release());
  MMX_CHECK(status == 0, "bench train: '", command, "' failed (status ", status, ")");
  return nlohmann::ordered_json::parse(out);
}

void print_row(const nlohmann::ordered_json& r) {
  std::printf("%-6s %-9s %7d %9lld %10.2f %10.1f %9.1f %10.4f\n",
              r["config"].get<std::string>().c_str(), r["attn"].get<std::string>().c_str(),
              r["threads"].get<int>(), r["params"].get<long long>(),
              r["ms_per_step"].get<double>(), r["tokens_per_s"].get<double>(),
              r["peak_rss_mb"].get<double>(), r["final_loss"].get<double>());
}

void run_train_bench(const BenchOptions& opt) {
  std::vector<const TrainBenchConfig*> configs;
  for (const TrainBenchConfig& c : kConfigs)
    if (opt.config == "all" || opt.config == c.name) configs.push_back(&c);
  MMX_CHECK(!configs.empty(), "bench train: unknown --config '", opt.config,
            "' (tiny, small or all)");
  std::vector<std::string> attns;
  for (const char* a : {"softmax", "multimax"})
    if (opt.attn == "all" || opt.attn == a) attns.emplace_back(a);
  MMX_CHECK(!attns.empty(), "bench train: unknown --attn '", opt.attn,
            "' (softmax, multimax or all)");

  const bool one_run = configs.size() * attns.size() == 1;
  if (!opt.json)
    std::printf("train: random tokens, AdamW, median of %d steps after %d warm-up%s\n"
                "%-6s %-9s %7s %9s %10s %10s %9s %10s\n",
                opt.steps, opt.warmup, one_run ? "" : ", one process per row", "config", "attn",
                "threads", "params", "ms/step", "tokens/s", "peak MB", "final loss");
  for (const TrainBenchConfig* c : configs)
    for (const std::string& attn : attns) {
      const nlohmann::ordered_json row =
          one_run ? train_one(*c, attn, opt) : train_in_child(c->name, attn, opt);
      if (opt.json)
        std::printf("%s\n", row.dump().c_str());
      else
        print_row(row);
      std::fflush(stdout);
    }
}

const bool registered = register_bench_suite(
    "train", "GPT training steps (tiny/small, softmax/multimax) as the PyTorch reference",
    run_train_bench);

}  // namespace

}  // namespace mmx::cli
