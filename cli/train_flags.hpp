// The flags that set a training run's options (model shape, optimisation, data), shared by
// `mmx train`, `mmx demo` and `mmx compare` so each flag is defined and documented once. The
// defaults shown are the language model's; `mmx train --task vit|mt` applies only the flags
// given over that task's defaults (train_task_flags.hpp).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cli/threads.hpp"
#include "nn/lm_trainer.hpp"

namespace mmx::cli {

struct TrainFlags {
  nn::TrainOptions options;
  std::string attention = "softmax";
  int threads = 0;
  // The options before parsing (set by add_train_flags): a --steps given without --warmup
  // keeps the default warmup's share of the default run.
  nn::TrainOptions defaults;
  // Copies the parsed attention name into options.model and scales the warmup (see
  // `defaults`) for the flags given on `cmd`; validated, clear error.
  nn::TrainOptions resolved(const CLI::App& cmd) const;
};

// Registers every option flag on `cmd`, writing into `flags`. `with_attention`: add --attn.
void add_train_flags(CLI::App& cmd, TrainFlags& flags, bool with_attention = true);

}  // namespace mmx::cli
