// `mmx bench scaling`: how the cost of a training step grows with the work. A GPT with fixed
// vocab 96, 4 layers, 4 heads and batch 8 trains on random tokens (AdamW) for each context
// length in --seqs and width in --d-models; the table shows the median ms/step and the peak
// resident memory of each cell.
//
// Peak RSS is a per-process high-water mark, so every cell of a grid runs in its own process
// (this binary re-executed with that one cell); a single cell runs here.

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cli/bench_support.hpp"
#include "cli/command_registry.hpp"
#include "engine/error.hpp"
#include "engine/thread_count.hpp"
#include "nn/models/gpt_config.hpp"

namespace mmx::cli {

namespace {

// Held fixed so that only seq and d_model move. Batch 8 as the reference's `small`; tokens
// per step therefore grow with seq, as they do when a user lengthens the context.
constexpr int64_t kVocab = 96, kLayers = 4, kHeads = 4, kBatch = 8;

nn::GPTConfig cell_config(int64_t seq, int64_t d_model, const std::string& attn) {
  nn::GPTConfig config;
  config.vocab = kVocab;
  config.layers = kLayers;
  config.heads = kHeads;
  config.seq_len = seq;
  config.d_model = d_model;
  config.attention.kind = nn::parse_attention_kind(attn);
  config.attention.multimax_order = 2;
  try {
    config.validate();
  } catch (const Error& e) {
    throw Error(cat("bench scaling: seq ", seq, ", d_model ", d_model, " (", kHeads,
                    " heads): ", e.what()));
  }
  return config;
}

nlohmann::ordered_json run_cell(int64_t seq, int64_t d_model, const std::string& attn,
                                const BenchOptions& opt) {
  const nn::GPTConfig config = cell_config(seq, d_model, attn);
  const bench::TrainingTiming run = bench::time_training(config, kBatch, opt.warmup, opt.steps);
  return {{"suite", "scaling"},
          {"attn", attn},
          {"seq", seq},
          {"d_model", d_model},
          {"layers", kLayers},
          {"heads", kHeads},
          {"batch", kBatch},
          {"threads", max_thread_count()},
          {"params", run.parameters},
          {"ms_per_step", bench::round_to(run.ms_per_step, 2)},
          {"tokens_per_s",
           bench::round_to(static_cast<double>(kBatch * seq) / run.ms_per_step * 1e3, 1)},
          {"peak_rss_mb", bench::round_to(bench::peak_rss_mb(), 1)},
          {"final_loss", bench::round_to(run.final_loss, 4)}};
}

nlohmann::ordered_json run_cell_in_child(int64_t seq, int64_t d_model, const std::string& attn,
                                         const BenchOptions& opt) {
  const auto rows = bench::run_self(
      "scaling", cat("bench scaling --json --attn ", attn, " --seqs ", seq, " --d-models ", d_model,
                     " --steps ", opt.steps, " --warmup ", opt.warmup, " --threads ", opt.threads));
  MMX_CHECK(rows.size() == 1, "bench scaling: the child for seq ", seq, ", d_model ", d_model,
            " printed ", rows.size(), " rows, expected 1");
  return rows.front();
}

// One grid: a row per seq, a column per d_model, each cell `field` printed with `format`.
void print_grid(const char* title, const char* field, const char* format,
                const std::map<std::pair<int64_t, int64_t>, nlohmann::ordered_json>& cells,
                const BenchOptions& opt) {
  std::printf("%-10s", title);
  for (int64_t d : opt.d_models) std::printf("  d_model %-4lld", static_cast<long long>(d));
  std::printf("\n");
  for (int64_t seq : opt.seqs) {
    std::printf("seq %-6lld", static_cast<long long>(seq));
    for (int64_t d : opt.d_models) std::printf(format, cells.at({seq, d})[field].get<double>());
    std::printf("\n");
  }
}

void run_scaling_bench(const BenchOptions& opt) {
  MMX_CHECK(!opt.seqs.empty() && !opt.d_models.empty(),
            "bench scaling: --seqs and --d-models need at least one value each");
  const std::vector<std::string> attns = bench::attention_names("scaling", opt.attn);
  for (const std::string& attn : attns)  // refuse a bad cell before hours of measuring
    for (int64_t seq : opt.seqs)
      for (int64_t d : opt.d_models) (void)cell_config(seq, d, attn);

  const bool one_cell = attns.size() * opt.seqs.size() * opt.d_models.size() == 1;
  for (const std::string& attn : attns) {
    std::map<std::pair<int64_t, int64_t>, nlohmann::ordered_json> cells;
    for (int64_t seq : opt.seqs)
      for (int64_t d : opt.d_models) {
        const nlohmann::ordered_json cell =
            one_cell ? run_cell(seq, d, attn, opt) : run_cell_in_child(seq, d, attn, opt);
        if (opt.json) bench::print_json_line(cell, opt);
        cells[{seq, d}] = cell;
      }
    if (opt.json) continue;
    std::printf(
        "scaling, %s: vocab %lld, %lld layers, %lld heads, batch %lld, random tokens, "
        "AdamW, %d threads;\nmedian of %d steps after %d warm-up, %s\n",
        attn.c_str(), static_cast<long long>(kVocab), static_cast<long long>(kLayers),
        static_cast<long long>(kHeads), static_cast<long long>(kBatch), max_thread_count(),
        opt.steps, opt.warmup, one_cell ? "this process" : "one process per cell");
    print_grid("ms/step", "ms_per_step", "  %12.1f", cells, opt);
    print_grid("peak MB", "peak_rss_mb", "  %12.1f", cells, opt);
    std::fflush(stdout);
  }
}

const bool registered = register_bench_suite(
    "scaling", "ms/step and peak memory over --seqs x --d-models (4 layers, 4 heads, batch 8)",
    run_scaling_bench);

}  // namespace

}  // namespace mmx::cli
