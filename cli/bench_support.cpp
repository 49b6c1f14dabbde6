#include "cli/bench_support.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>

#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/ops.hpp"
#include "engine/random.hpp"
#include "nn/models/gpt.hpp"
#include "nn/optim/adamw.hpp"

namespace mmx::cli::bench {

namespace {

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

std::vector<double> sorted(std::vector<double> values) {
  MMX_CHECK(!values.empty(), "bench: median of no measurements");
  std::sort(values.begin(), values.end());
  return values;
}

constexpr std::array<ReferenceConfig, 2> kReferenceConfigs = {{
    {"tiny", 96, 128, 4, 4, 128, 16},
    {"small", 96, 256, 6, 8, 256, 8},
}};

// The sgemm child's loop: per request byte read from `in`, the faster of two timed
// [n, n] x [n, n] matmuls, its milliseconds written to `out` as a double, until `in` closes. The
// faster of two: after waiting for a training step, the first call often ran at ~0.62 of the
// rate (measured; why was not: perhaps its threads asleep or its caches cold), and with 5 steps
// the median then read an MFU above 100%.
void serve_sgemm(int64_t n, int in, int out) {
  NoGrad no_grad;
  Generator gen(7);
  const Tensor a = Tensor::randn({n, n}, gen), b = Tensor::randn({n, n}, gen);
  (void)matmul(a, b);  // primitive creation and first touch of the output pages
  const auto timed_call = [&] {
    const auto start = std::chrono::steady_clock::now();
    (void)matmul(a, b);
    return elapsed_ms(start);
  };
  for (char request = 0; read(in, &request, 1) == 1;) {
    const double first = timed_call();
    const double ms = std::min(first, timed_call());
    if (write(out, &ms, sizeof ms) != sizeof ms) return;
  }
}

}  // namespace

nn::GPTConfig ReferenceConfig::gpt_config(const std::string& attention) const {
  nn::GPTConfig config;
  config.vocab = vocab;
  config.d_model = d_model;
  config.layers = layers;
  config.heads = heads;
  config.seq_len = seq;
  config.attention.kind = nn::parse_attention_kind(attention);
  config.attention.multimax_order = 2;
  return config;
}

std::vector<ReferenceConfig> reference_configs(const std::string& suite, const std::string& name) {
  std::vector<ReferenceConfig> configs;
  for (const ReferenceConfig& c : kReferenceConfigs)
    if (name == "all" || name == c.name) configs.push_back(c);
  MMX_CHECK(!configs.empty(), "bench ", suite, ": unknown --config '", name,
            "' (tiny, small or all)");
  return configs;
}

std::vector<std::string> attention_names(const std::string& suite, const std::string& name) {
  std::vector<std::string> names;
  for (const char* a : {"softmax", "multimax"})
    if (name == "all" || name == a) names.emplace_back(a);
  MMX_CHECK(!names.empty(), "bench ", suite, ": unknown --attn '", name,
            "' (softmax, multimax or all)");
  return names;
}

double median(std::vector<double> values) {
  const std::vector<double> v = sorted(std::move(values));
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

double upper_median(std::vector<double> values) {
  const std::vector<double> v = sorted(std::move(values));
  return v[v.size() / 2];
}

double round_to(double x, int digits) {
  const double scale = std::pow(10.0, digits);
  return static_cast<double>(std::llround(x * scale)) / scale;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

// Per token, a weight of a matmul costs 2 FLOPs forward (multiply + add) and 4 backward (the
// input's gradient and the weight's), hence 6 per parameter (Kaplan et al. 2020). The issue
// counts every parameter that way; the token and position tables (a lookup, no multiply) and
// the LayerNorm/bias/MultiMax vectors do not run through a matmul, so this slightly
// overcounts: by 1.9% on `small` and 3.4% on `tiny`, almost all from the two tables.
// Attention adds, per layer and per query at position i (0-based), q.k over i + 1 keys and the
// weighted sum of i + 1 values, each d_model multiply-adds summed over the heads: 4 d (i + 1)
// FLOPs forward. The causal mask makes the rest useless work, so it is not counted. Averaged
// over the seq positions that is 2 d (seq + 1); backward doubles it again (gradients of both
// operands of both products): 6 d (seq + 1) per layer, which we round to 6 x layers x seq x d.
double training_flops_per_token(const nn::GPTConfig& config, int64_t parameters) {
  const auto l = static_cast<double>(config.layers), t = static_cast<double>(config.seq_len),
             d = static_cast<double>(config.d_model);
  return 6.0 * static_cast<double>(parameters) + 6.0 * l * t * d;
}

ForkedSgemmTimer::ForkedSgemmTimer(int64_t n) : n_(n) {
  MMX_CHECK(n >= 1, "bench: sgemm size must be >= 1, got ", n);
  int down[2], up[2];  // parent -> child requests, child -> parent timings
  MMX_CHECK(pipe(down) == 0 && pipe(up) == 0, "bench: cannot create the sgemm pipes");
  const pid_t pid = fork();
  MMX_CHECK(pid >= 0, "bench: cannot fork the sgemm process");
  if (pid == 0) {  // the child: one timed call per request byte, until the pipe closes
    close(down[1]);
    close(up[0]);
    int status = 0;
    try {
      serve_sgemm(n, down[0], up[1]);
    } catch (...) {
      status = 1;
    }
    _exit(status);  // runs none of the parent's atexit handlers or static destructors
  }
  close(down[0]);
  close(up[1]);
  pid_ = pid;
  to_child_ = down[1];
  from_child_ = up[0];
}

ForkedSgemmTimer::~ForkedSgemmTimer() {
  close(to_child_);  // the child sees end of file and exits
  close(from_child_);
  waitpid(pid_, nullptr, 0);
}

void ForkedSgemmTimer::time_call() {
  const char request = 1;
  double ms = 0;
  MMX_CHECK(write(to_child_, &request, 1) == 1 && read(from_child_, &ms, sizeof ms) == sizeof ms,
            "bench: the sgemm process (n = ", n_, ") stopped answering");
  ms_.push_back(ms);
}

double ForkedSgemmTimer::gflops() const {
  const auto n = static_cast<double>(n_);
  return 2.0 * n * n * n / (median(ms_) * 1e-3) * 1e-9;
}

TimedTrainer::TimedTrainer(const nn::GPTConfig& config, int64_t batch)
    : model_(config, /*seed=*/0),
      optimizer_(model_.named_parameters(), nn::AdamWOptions{}),  // lr 1e-3, .9/.95, wd .1
      batch_(batch),
      seq_(config.seq_len) {
  MMX_CHECK(batch >= 1, "bench: batch ", batch, " must be positive");
  Generator gen(0);
  const auto n = static_cast<size_t>(batch_ * seq_);
  const auto vocab = static_cast<uint64_t>(config.vocab);
  ids_.resize(n);
  targets_.resize(n);
  for (int64_t& id : ids_) id = static_cast<int64_t>(gen.below(vocab));
  for (int64_t& t : targets_) t = static_cast<int64_t>(gen.below(vocab));
}

double TimedTrainer::step() {
  const AdaptiveThreads::Unit unit(threads_);
  const auto start = std::chrono::steady_clock::now();
  Tensor loss = model_.loss(ids_, targets_, batch_, seq_);
  loss.backward();
  const auto optimizer_start = std::chrono::steady_clock::now();
  optimizer_.step();
  optimizer_.zero_grad();
  last_optimizer_ms_ = elapsed_ms(optimizer_start);
  last_loss_ = loss.item();
  return elapsed_ms(start);
}

TrainingTiming time_training(const nn::GPTConfig& config, int64_t batch, int warmup, int steps,
                             const std::function<void()>& after_timed_step, bool profile_ops) {
  MMX_CHECK(steps >= 1 && warmup >= 0, "bench: steps ", steps, " and warm-up ", warmup,
            " must be positive (warm-up may be 0)");
  TimedTrainer trainer(config, batch);
  TrainingTiming timing;
  std::vector<double> times_ms;
  for (int i = 0; i < warmup + steps; ++i) {
    const bool timed = i >= warmup;
    if (timed && profile_ops) {  // the forward clock starts here: data setup is no op's
      if (i == warmup)
        autograd::start_op_profile();
      else
        autograd::mark_op_profile();
    }
    const double ms = trainer.step();
    if (timed) {
      times_ms.push_back(ms);
      timing.optimizer_ms += trainer.last_optimizer_ms();
      if (after_timed_step) after_timed_step();
    }
  }
  if (profile_ops) timing.op_times = autograd::stop_op_profile();
  timing.final_loss = trainer.last_loss();
  timing.peak_rss_mb = peak_rss_mb();
  timing.ms_per_step = upper_median(times_ms);
  timing.parameters = trainer.parameters();
  return timing;
}

std::vector<nlohmann::ordered_json> run_self(const std::string& suite,
                                             const std::string& arguments) {
  std::array<char, 4096> self{};
  const ssize_t len = readlink("/proc/self/exe", self.data(), self.size() - 1);
  MMX_CHECK(len > 0, "bench ", suite, ": cannot find this executable through /proc/self/exe");
  const std::string command =
      cat("'", std::string(self.data(), static_cast<size_t>(len)), "' ", arguments);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  MMX_CHECK(pipe != nullptr, "bench ", suite, ": cannot start '", command, "'");
  std::string out;
  std::array<char, 512> buffer{};
  while (fgets(buffer.data(), static_cast<int>(buffer.size()), pipe.get())) out += buffer.data();
  const int status = pclose(pipe.release());
  MMX_CHECK(status == 0, "bench ", suite, ": '", command, "' failed (status ", status, ")");
  std::vector<nlohmann::ordered_json> rows;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) rows.push_back(nlohmann::ordered_json::parse(line));
  return rows;
}

void print_json_line(nlohmann::ordered_json row, const BenchOptions& opt) {
  row["threads_adaptive"] = opt.threads == 0;
  row["busy_core"] = opt.busy_core;
  std::printf("%s\n", row.dump().c_str());
  std::fflush(stdout);
}

}  // namespace mmx::cli::bench
