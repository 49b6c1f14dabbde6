// `mmx bench sample`: decoding speed of the reference configs with the KV cache (one position
// per new token) against the same model running a full forward over the context per token, as
// `mmx sample` and `mmx sample --no-cache` do. The weights are the random initialisation: the
// cost of a step does not depend on their values, and no checkpoint is needed. Greedy picks, so
// both ways must produce the same tokens, which the row reports.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/bench_support.hpp"
#include "cli/command_registry.hpp"
#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "nn/models/gpt.hpp"
#include "nn/models/sampler.hpp"

namespace mmx::cli {

namespace {

struct Decoding {
  std::vector<int64_t> tokens;
  double tokens_per_s = 0;
};

Decoding decode(const nn::GPT& model, int64_t n_new, bool use_cache) {
  nn::SamplingOptions options;
  options.temperature = 0.0f;  // greedy: no draws, so cached and uncached must agree
  options.use_cache = use_cache;
  Generator gen(0);
  const auto start = std::chrono::steady_clock::now();
  Decoding d;
  d.tokens = nn::generate(model, {0}, n_new, options, gen);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  d.tokens_per_s = static_cast<double>(n_new) / s;
  return d;
}

nlohmann::ordered_json sample_one(const bench::ReferenceConfig& c, const std::string& attn,
                                  const BenchOptions& opt) {
  NoGrad no_grad;
  nn::GPT model(c.gpt_config(attn), /*seed=*/0);
  model.eval();
  // seq - 1 new tokens after the one-token prompt fill the context exactly: no re-fill, so
  // the two ways see the same history (see nn/models/sampler.hpp for the policy past that).
  const int64_t n_new = opt.sample_tokens > 0 ? opt.sample_tokens : c.seq - 1;
  (void)decode(model, 4, true);  // warm-up: primitive creation for the shapes that recur
  (void)decode(model, 4, false);

  std::vector<double> cached, uncached;
  bool same_tokens = true;
  for (int r = 0; r < opt.rounds; ++r) {  // alternating, so load changes hit both alike
    const Decoding with = decode(model, n_new, true);
    const Decoding without = decode(model, n_new, false);
    cached.push_back(with.tokens_per_s);
    uncached.push_back(without.tokens_per_s);
    same_tokens = same_tokens && with.tokens == without.tokens;
  }
  const double fast = bench::median(cached), slow = bench::median(uncached);
  return {{"suite", "sample"},
          {"config", c.name},
          {"attn", attn},
          {"threads", omp_get_max_threads()},
          {"params", model.parameter_count()},
          {"tokens", n_new},
          {"rounds", opt.rounds},
          {"cached_tokens_per_s", bench::round_to(fast, 1)},
          {"uncached_tokens_per_s", bench::round_to(slow, 1)},
          {"speedup", bench::round_to(fast / slow, 2)},
          {"same_tokens", same_tokens}};
}

void run_sample_bench(const BenchOptions& opt) {
  const std::vector<bench::ReferenceConfig> configs =
      bench::reference_configs("sample", opt.config);
  const std::vector<std::string> attns = bench::attention_names("sample", opt.attn);
  for (const bench::ReferenceConfig& c : configs)
    MMX_CHECK(opt.sample_tokens < c.seq, "bench sample: --tokens ", opt.sample_tokens,
              " does not fit the ", c.name, " context of ", c.seq,
              " positions after the one-token prompt (at most ", c.seq - 1, ")");
  if (!opt.json)
    std::printf(
        "sample: greedy decoding from a one-token prompt, random-init weights, %d "
        "threads,\nmedian tokens/s of %d rounds (KV cache and full forward per token "
        "alternating)\n%-6s %-9s %9s %7s %12s %14s %8s %6s\n",
        omp_get_max_threads(), opt.rounds, "config", "attn", "params", "tokens", "cached tok/s",
        "uncached tok/s", "speedup", "same");
  for (const bench::ReferenceConfig& c : configs)
    for (const std::string& attn : attns) {
      const nlohmann::ordered_json row = sample_one(c, attn, opt);
      if (opt.json) {
        bench::print_json_line(row);
        continue;
      }
      std::printf("%-6s %-9s %9lld %7lld %12.1f %14.1f %7.2fx %6s\n", c.name, attn.c_str(),
                  row["params"].get<long long>(), row["tokens"].get<long long>(),
                  row["cached_tokens_per_s"].get<double>(),
                  row["uncached_tokens_per_s"].get<double>(), row["speedup"].get<double>(),
                  row["same_tokens"].get<bool>() ? "yes" : "NO");
      std::fflush(stdout);
    }
}

const bool registered = register_bench_suite(
    "sample", "decoding tokens/s with the KV cache against a full forward per token",
    run_sample_bench);

}  // namespace

}  // namespace mmx::cli
