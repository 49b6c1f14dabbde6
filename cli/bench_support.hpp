// What the `mmx bench` suites that train or run a GPT share: medians, peak memory, the useful
// FLOPs of a training step, the sgemm yardstick for MFU, and re-running mmx in a child process.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command_registry.hpp"
#include "engine/autograd/tape.hpp"
#include "engine/thread_count.hpp"
#include "nn/models/gpt.hpp"
#include "nn/models/gpt_config.hpp"
#include "nn/optim/adamw.hpp"

namespace mmx::cli::bench {

// A config of the PyTorch reference (bench/torch_reference.py), field for field.
struct ReferenceConfig {
  const char* name;
  int64_t vocab, d_model, layers, heads, seq, batch;
  // With MultiMax, the reference's second-order modulator shared by the heads.
  nn::GPTConfig gpt_config(const std::string& attention) const;
};
// "tiny", "small" or "all"; anything else is an mmx::Error naming `suite` and the choices.
std::vector<ReferenceConfig> reference_configs(const std::string& suite, const std::string& name);
// "softmax", "multimax" or "all" -> the attention names to run, in that order.
std::vector<std::string> attention_names(const std::string& suite, const std::string& name);

// The true median (mean of the two middle values for an even count).
double median(std::vector<double> values);
// The upper middle, as the PyTorch reference's times[len // 2]: train figures stay comparable.
double upper_median(std::vector<double> values);
// Python's round(x, digits), so our JSON reads like the reference's.
double round_to(double x, int digits);
// This process's resident-memory high-water mark (getrusage's ru_maxrss), in MiB.
double peak_rss_mb();

// Useful FLOPs of one training step per token (forward + backward), counted as the issue asks:
// 6 x every parameter, plus causal attention's 6 x layers x seq x d_model. Derivation in the .cpp.
double training_flops_per_token(const nn::GPTConfig& config, int64_t parameters);

// The fp32 matmul rate this machine reaches: an [n, n] x [n, n] product through the engine's
// matmul (oneDNN), timed call by call. The training bench calls it between its steps, so the
// sgemm and the steps share the machine's load as it comes and goes. The matrices live in a
// forked child process, so they stay out of the caller's peak RSS. Create it before this
// process runs any OpenMP parallel region: libgomp's threads do not survive a fork.
class ForkedSgemmTimer {
 public:
  explicit ForkedSgemmTimer(int64_t n);
  ~ForkedSgemmTimer();  // ends the child and waits for it
  ForkedSgemmTimer(const ForkedSgemmTimer&) = delete;
  ForkedSgemmTimer& operator=(const ForkedSgemmTimer&) = delete;
  int64_t n() const { return n_; }
  void time_call();       // one call in the child; returns when it is done
  double gflops() const;  // 2 n^3 FLOPs over the median call

 private:
  int64_t n_;
  int pid_ = -1;
  int to_child_ = -1, from_child_ = -1;
  std::vector<double> ms_;
};

// One model training on fixed random tokens with AdamW, the reference's loop: forward,
// backward, step, zero_grad. Its model, optimizer and data are seeded with 0. Each step is a unit
// of an AdaptiveThreads, as in `mmx train`.
class TimedTrainer {
 public:
  TimedTrainer(const nn::GPTConfig& config, int64_t batch);
  double step();  // one step; returns its wall-clock ms
  float last_loss() const { return last_loss_; }
  double last_optimizer_ms() const { return last_optimizer_ms_; }  // of the last step
  int64_t parameters() const { return model_.parameter_count(); }

 private:
  nn::GPT model_;
  nn::AdamW optimizer_;  // after model_: it holds model_'s parameters
  int64_t batch_, seq_;
  std::vector<int64_t> ids_, targets_;
  float last_loss_ = 0;
  double last_optimizer_ms_ = 0;
  AdaptiveThreads threads_;
};

// Trains `config` with a TimedTrainer and times each step; `after_timed_step`, if given, runs
// after each timed step, outside the timing.
struct TrainingTiming {
  double ms_per_step = 0;  // upper median of the timed steps
  float final_loss = 0;
  int64_t parameters = 0;
  double peak_rss_mb = 0;  // this process's, at the end
  // With profile_ops: per op, summed over the timed steps (autograd::start_op_profile), and
  // the optimizer step's own total.
  std::map<std::string, autograd::OpTime> op_times;
  double optimizer_ms = 0;
};
TrainingTiming time_training(const nn::GPTConfig& config, int64_t batch, int warmup, int steps,
                             const std::function<void()>& after_timed_step = nullptr,
                             bool profile_ops = false);

// Runs `mmx <arguments>` (this same binary, through /proc/self/exe) in a fresh process, so its
// peak memory is its own, and returns the JSON objects it printed, one per line. `suite` names
// the caller in errors.
std::vector<nlohmann::ordered_json> run_self(const std::string& suite,
                                             const std::string& arguments);

// A row printed as one JSON line, flushed so a parent reading the pipe sees it at once. Every
// row ends with how its threads ran, so rows of one machine's idle and busy runs can be told
// apart: "threads_adaptive" (true without --threads: each step or token ran at the count an
// AdaptiveThreads chose, up to "threads") and "busy_core" (true under --busy-core: a spinning
// process held one core). A row a child printed gets the parent's values.
void print_json_line(nlohmann::ordered_json row, const BenchOptions& opt);

}  // namespace mmx::cli::bench
