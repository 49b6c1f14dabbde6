// `mmx sample`: generates text from a `mmx train` checkpoint, streaming each character to stdout
// as it is picked, and prints the decoding speed (tokens/s) to stderr at the end.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "cli/command_registry.hpp"
#include "cli/threads.hpp"
#include "cli/whole_number.hpp"
#include "engine/error.hpp"
#include "nn/models/sampler.hpp"
#include "nn/tasks/lm/lm_trainer.hpp"

namespace mmx::cli {
namespace {

struct SampleCommand {
  std::string checkpoint;
  std::string prompt;
  int64_t tokens = 200;
  nn::SamplingOptions sampling;
  uint64_t seed = 0;
  bool no_cache = false;
  int threads = 0;
};

// Generation allocates per token up front: a cap keeps a typo like 1e12 a clear error.
constexpr int64_t kMaxTokens = 1'000'000;

void write_text(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  // stream: each character shows as soon as it is picked. A closed or full stdout is an error,
  // as for cat and head: the text would be lost.
  MMX_CHECK(std::fflush(stdout) == 0 && !std::ferror(stdout),
            "sample: cannot write to standard output: ", std::strerror(errno));
}

void run_sample(SampleCommand c) {
  c.sampling.use_cache = !c.no_cache;
  c.sampling.validate();
  MMX_CHECK(c.tokens >= 1, "sample: --tokens must be >= 1, got ", c.tokens);
  MMX_CHECK(std::filesystem::is_directory(c.checkpoint), "sample: --ckpt ", c.checkpoint,
            " is not a directory");
  const nn::LoadedModel loaded = nn::load_model(c.checkpoint);
  const nn::GPT& model = *loaded.model;
  const std::vector<int64_t> prompt = nn::encode_prompt(loaded.tokenizer, c.prompt);
  const int64_t seq_len = model.config().seq_len;
  if (static_cast<int64_t>(prompt.size()) > seq_len)
    std::fprintf(stderr,
                 "sample: the prompt has %zu characters; the model sees only the last %ld\n",
                 prompt.size(), seq_len);

  write_text(c.prompt);
  Generator gen(c.seed);
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int64_t> generated =
      nn::generate(model, prompt, c.tokens, c.sampling, gen,
                   [&](int64_t token) { write_text(loaded.tokenizer.decode({token})); });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_text("\n");
  std::fprintf(stderr, "%zu tokens in %.3f s: %.1f tokens/s (%s, step %ld checkpoint)\n",
               generated.size(), seconds, static_cast<double>(generated.size()) / seconds,
               c.sampling.use_cache ? "KV cache" : "no cache, full forward per token", loaded.step);
}

const bool registered = register_command([](CLI::App& app) {
  auto c = std::make_shared<SampleCommand>();
  auto* cmd = app.add_subcommand("sample", "Generate text from a trained checkpoint");
  cmd->add_option("--ckpt", c->checkpoint, "Checkpoint directory written by `mmx train`")
      ->required();
  cmd->add_option("--prompt", c->prompt,
                  "Text to continue (empty: start from a newline, or token 0 without one)");
  cmd->add_option("--tokens", c->tokens, "Characters to generate")
      ->check(whole_number(1, kMaxTokens))
      ->capture_default_str();
  cmd->add_option("--temperature", c->sampling.temperature,
                  "Softmax temperature (0: greedy, always the most likely character)")
      ->capture_default_str();
  cmd->add_option("--top-k", c->sampling.top_k, "Sample among the k most likely (0: all)")
      ->check(whole_number(0, std::numeric_limits<int64_t>::max()))
      ->capture_default_str();
  cmd->add_option("--seed", c->seed, "Seed of the sampling draws")
      ->check(whole_number(0, std::numeric_limits<int64_t>::max()))
      ->capture_default_str();
  cmd->add_flag("--no-cache", c->no_cache,
                "Full forward over the context for every token instead of the KV cache");
  add_threads_option(cmd, c->threads);
  cmd->callback([c] {
    apply_threads(c->threads);
    run_sample(*c);
  });
});

}  // namespace
}  // namespace mmx::cli
