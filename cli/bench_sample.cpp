// `mmx bench sample`: decoding speed of the reference configs with the KV cache (one position
// per new token, through nn::GPTDecoder) against the same model running a full forward over the
// context per token, as `mmx sample` and `mmx sample --no-cache` do. The weights are the random
// initialisation: the cost of a step does not depend on their values, and no checkpoint is
// needed. Greedy picks, so both ways must produce the same tokens, which the row reports.
//
// Against the machine's limit: decoding one token reads every weight once, so it cannot beat the
// time to stream-read the weights' bytes. The row times that floor in the same run (a sum over
// a buffer of the weights' size, at the same thread count, alternating with the decodes; median
// of the rounds) and reports the
// fraction of the floor's rate reached, and the cached rate against one full forward over the
// whole context (what an uncached sampler pays per token once the context is full).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/bench_support.hpp"
#include "cli/command_registry.hpp"
#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/parallel_region.hpp"
#include "engine/thread_count.hpp"
#include "nn/models/gpt.hpp"
#include "nn/models/sampler.hpp"

namespace mmx::cli {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

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
  d.tokens_per_s = static_cast<double>(n_new) / seconds_since(start);
  return d;
}

// Floats read per token: every Linear weight and bias, LayerNorm scale and shift and MultiMax
// parameter, and one row each of the token and position tables (not the whole tables).
int64_t floats_read_per_token(const nn::GPT& model) {
  int64_t floats = 0;
  for (const auto& [name, t] : model.named_parameters())
    floats += name == "tok.weight" || name == "pos" ? t.size(1) : t.numel();
  return floats;
}

// FLOPs of decoding positions [0, n): two per weight multiply-add, and per layer and position p
// the attention's 2 d (p + 1) for the scores and as many for the weighted sum.
double decode_flops(const nn::GPTConfig& c, int64_t n) {
  const double d = static_cast<double>(c.d_model), weights = 12 * d * d * c.layers + d * c.vocab;
  double flops = 0;
  for (int64_t p = 0; p < n; ++p)
    flops += 2 * weights + 4 * d * static_cast<double>(c.layers) * static_cast<double>(p + 1);
  return flops;
}

// The sum of n floats from `from`, as one vector loop.
float sum_of(const float* from, int64_t n) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += from[i];
  return sum;
}

// The sum of `buffer`, its floats read once by all the threads of this count, each a run of
// whole blocks. Not the sum op: that gives each output element one thread, so a sum to one
// number read on one thread, and the floor at 2 threads read as the floor at 1.
double streaming_sum(const Tensor& buffer) {
  constexpr int64_t kBlock = int64_t{1} << 16;  // floats: 256 KB
  const float* data = buffer.data();
  const int64_t n = buffer.numel(), blocks = (n + kBlock - 1) / kBlock;
  double total = 0;
  parallel_region(true, [&] {  // each thread's part added once (no reduction clause: Clang)
    double part = 0.0;
#pragma omp for schedule(static) nowait
    for (int64_t b = 0; b < blocks; ++b)
      part += sum_of(data + b * kBlock, std::min(kBlock, n - b * kBlock));
#pragma omp atomic
    total += part;
  });
  return total;
}

// The weight-streaming floor: seconds to read `floats` floats once, at this thread count: a sum
// over a buffer of that size, `times` times in a row (as many as the tokens decoded, so that the
// floor spends as long on the machine as the decode and meets the same load), per read.
double streaming_floor_s(int64_t floats, int64_t times) {
  const Tensor buffer = Tensor::ones({floats});
  (void)streaming_sum(buffer);  // into the caches it fits in, as the decode's warm-up does
  const auto start = std::chrono::steady_clock::now();
  double total = 0;
  for (int64_t i = 0; i < times; ++i) total += streaming_sum(buffer);
  MMX_CHECK(total > 0, "bench sample: the streaming sum read nothing");
  return seconds_since(start) / static_cast<double>(times);
}

// One full forward over the whole context (seq_len positions), median of `repeats`.
double full_forward_s(const nn::GPT& model, int repeats) {
  const int64_t seq = model.config().seq_len;
  const std::vector<int64_t> ids(static_cast<size_t>(seq), 0);
  std::vector<double> seconds;
  (void)model.forward(ids, 1, seq);  // warm-up: primitive creation
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    (void)model.forward(ids, 1, seq);
    seconds.push_back(seconds_since(start));
  }
  return bench::median(seconds);
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

  const int64_t floats = floats_read_per_token(model);
  std::vector<double> cached, uncached, floor_s, full_s;
  bool same_tokens = true;
  for (int r = 0; r < opt.rounds; ++r) {  // alternating, so load changes hit all alike
    const Decoding with = decode(model, n_new, true);
    const Decoding without = decode(model, n_new, false);
    floor_s.push_back(streaming_floor_s(floats, n_new));
    full_s.push_back(full_forward_s(model, 3));
    cached.push_back(with.tokens_per_s);
    uncached.push_back(without.tokens_per_s);
    same_tokens = same_tokens && with.tokens == without.tokens;
  }
  const double fast = bench::median(cached), slow = bench::median(uncached);
  const double floor_tokens_per_s = 1.0 / bench::median(floor_s);
  const double full_context_tokens_per_s = 1.0 / bench::median(full_s);
  // Position 0 is the prompt, fed like every generated token: n_new positions in all.
  const double gflops = decode_flops(model.config(), n_new) / n_new * fast * 1e-9;
  return {{"suite", "sample"},
          {"config", c.name},
          {"attn", attn},
          {"threads", max_thread_count()},
          {"params", model.parameter_count()},
          {"tokens", n_new},
          {"rounds", opt.rounds},
          {"cached_tokens_per_s", bench::round_to(fast, 1)},
          {"uncached_tokens_per_s", bench::round_to(slow, 1)},
          {"speedup", bench::round_to(fast / slow, 2)},
          {"ms_per_token", bench::round_to(1e3 / fast, 3)},
          {"gflops", bench::round_to(gflops, 2)},
          {"weight_mb", bench::round_to(static_cast<double>(floats) * 4 / 1e6, 2)},
          {"floor_tokens_per_s", bench::round_to(floor_tokens_per_s, 1)},
          {"floor_fraction", bench::round_to(fast / floor_tokens_per_s, 3)},
          {"full_context_tokens_per_s", bench::round_to(full_context_tokens_per_s, 1)},
          {"speedup_full_context", bench::round_to(fast / full_context_tokens_per_s, 2)},
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
        "alternating);\nfloor: a streaming read of the weights' bytes per token; full@ctx: one "
        "forward over the whole context\n%-6s %-9s %9s %7s %12s %14s %8s %6s %8s %7s %9s %7s "
        "%11s %6s\n",
        max_thread_count(), opt.rounds, "config", "attn", "params", "tokens", "cached tok/s",
        "uncached tok/s", "speedup", "same", "ms/tok", "GFLOP/s", "floor t/s", "of floor",
        "vs full@ctx", "ctx");
  for (const bench::ReferenceConfig& c : configs)
    for (const std::string& attn : attns) {
      const nlohmann::ordered_json row = sample_one(c, attn, opt);
      if (opt.json) {
        bench::print_json_line(row, opt);
        continue;
      }
      std::printf(
          "%-6s %-9s %9lld %7lld %12.1f %14.1f %7.2fx %6s %8.3f %7.2f %9.1f %6.1f%% "
          "%10.2fx %6lld\n",
          c.name, attn.c_str(), row["params"].get<long long>(), row["tokens"].get<long long>(),
          row["cached_tokens_per_s"].get<double>(), row["uncached_tokens_per_s"].get<double>(),
          row["speedup"].get<double>(), row["same_tokens"].get<bool>() ? "yes" : "NO",
          row["ms_per_token"].get<double>(), row["gflops"].get<double>(),
          row["floor_tokens_per_s"].get<double>(), 100 * row["floor_fraction"].get<double>(),
          row["speedup_full_context"].get<double>(), static_cast<long long>(c.seq));
      std::fflush(stdout);
    }
}

const bool registered = register_bench_suite(
    "sample", "decoding tokens/s with the KV cache against a full forward per token",
    run_sample_bench);

}  // namespace

}  // namespace mmx::cli
