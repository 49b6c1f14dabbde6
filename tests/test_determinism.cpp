// Determinism and OpenMP races. Same seed, same thread count, same build: training losses
// and parameters are bit-identical across runs. Across thread counts (1, 2, 3), every OpenMP
// kernel is run on shapes large enough to split and compared with the 1-thread result: a race
// shows up as a mismatch (ThreadSanitizer is not used: libgomp is not TSan-instrumented and
// reports false races). Which results may change with the thread count, and by how much, is
// in each row and in docs/reliability.md.
#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <functional>

#include "engine/normalizers.hpp"
#include "engine/ops.hpp"
#include "nn/optim/adamw.hpp"
#include "nn/tasks/lm/lm_trainer.hpp"
#include "scratch_dir.hpp"
#include "tiny_task_data.hpp"

using namespace mmx;

namespace {

// Restores the OpenMP thread count when a test ends.
struct ThreadCount {
  int saved = omp_get_max_threads();
  explicit ThreadCount(int n) {
    omp_set_num_threads(n);
    int team = 0;
#pragma omp parallel
    {
#pragma omp single
      team = omp_get_num_threads();
    }
    REQUIRE(team == n);  // the comparisons below mean nothing if the team did not change
  }
  ~ThreadCount() {
    omp_set_num_threads(saved);
  }
};

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

float max_relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(1e-6f, std::abs(b[i])));
  return worst;
}

Tensor random_tensor(const Shape& shape, uint64_t seed, float scale = 1.0f) {
  Generator gen(seed);
  return Tensor::randn(shape, gen, 0.0f, scale);
}

// Forward output, then the gradient of every input, flattened into one vector.
std::vector<float> forward_and_gradients(
    const std::function<Tensor(const std::vector<Tensor>&)>& op,
    const std::vector<Tensor>& inputs) {
  std::vector<Tensor> leaves;
  for (const Tensor& x : inputs) leaves.push_back(x.detach().requires_grad_());
  const Tensor y = op(leaves);
  std::vector<float> out = y.to_vector();
  // A fixed, uneven upstream gradient so every output element matters.
  const Tensor upstream = random_tensor(y.shape(), 99);
  y.backward(upstream);
  for (const Tensor& leaf : leaves) {
    const std::vector<float> g = leaf.grad().to_vector();
    out.insert(out.end(), g.begin(), g.end());
  }
  return out;
}

nn::TrainOptions tiny_run(const std::filesystem::path& corpus) {
  nn::TrainOptions o;
  o.model.d_model = 16;
  o.model.layers = 2;
  o.model.heads = 2;
  o.model.seq_len = 32;
  o.model.dropout = 0.1f;
  o.model.attention.kind = nn::AttentionKind::MultiMax;
  o.batch = 8;
  o.steps = 6;
  o.warmup = 1;
  o.eval_interval = 6;
  o.eval_batch = 4;
  o.seed = 17;
  o.data = corpus.string();
  return o;
}

std::filesystem::path write_corpus(const ScratchDir& dir) {
  return write_word_corpus(dir / "corpus.txt", 5, {"cat ", "dog ", "bird\n", "fish, ", "ant. "},
                           3000);
}

// The losses of a fresh run's steps, then every parameter after them.
std::vector<float> run_losses_and_parameters(const nn::TrainOptions& options) {
  nn::LMTrainer trainer(options);
  std::vector<float> out;
  for (int64_t s = 0; s < options.steps; ++s) out.push_back(trainer.train_step());
  for (const auto& [name, p] : trainer.model().named_parameters()) {
    const std::vector<float> v = p.to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

}  // namespace

TEST_CASE("same seed, same thread count: bit-identical losses and parameters") {
  ScratchDir dir("determinism");
  const nn::TrainOptions options = tiny_run(write_corpus(dir));
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    ThreadCount team(threads);
    const std::vector<float> first = run_losses_and_parameters(options);
    const std::vector<float> second = run_losses_and_parameters(options);
    CHECK(bit_identical(first, second));
  }
}

TEST_CASE("OpenMP kernels across 1, 2 and 3 threads: races would show as mismatches") {
  // Rows x columns past every kernel's threading threshold (16384 or 32768 elements).
  const Tensor scores = random_tensor({4, 64, 96}, 1, 3.0f);
  const Tensor big = random_tensor({512, 96}, 2);
  const Tensor weight = random_tensor({96, 80}, 3, 0.1f);
  const Tensor gamma = random_tensor({96}, 4), beta = random_tensor({96}, 5);
  const Tensor t = Tensor::from_data({0.5f, -0.25f, 0.125f, 0.0625f}, {4});
  const Tensor r = Tensor::from_data({0.1f, -0.2f, 0.3f, -0.4f}, {4});
  std::vector<int64_t> targets(512);
  for (size_t i = 0; i < targets.size(); ++i) targets[i] = static_cast<int64_t>((i * 37) % 96);
  struct Row {
    const char* name;
    std::function<Tensor(const std::vector<Tensor>&)> op;
    std::vector<Tensor> inputs;
    // 0: bit-identical for every thread count. Otherwise the largest relative difference
    // allowed, for results that sum across rows in per-thread partial sums.
    float tolerance;
  };
  const std::vector<Row> rows = {
      {"softmax_temperature causal",
       [](const auto& in) { return softmax_temperature(in[0], 0.7f, Tensor(), true); },
       {scores},
       0},
      {"multimax: scores only",
       [&](const auto& in) {
         return multimax(in[0], {t, r, 2}, Tensor(), true);
       },
       {scores},
       0},
      // dt and dr sum over every row: per-thread partial sums, added in thread order.
      {"multimax: with t and r",
       [](const auto& in) {
         return multimax(in[0], {in[1], in[2], 2}, Tensor(), true);
       },
       {scores, t, r},
       1e-5f},
      {"sparsemax", [](const auto& in) { return sparsemax(in[0], Tensor(), true); }, {scores}, 0},
      {"entmax15", [](const auto& in) { return entmax15(in[0], Tensor(), true); }, {scores}, 0},
      {"evsoftmax training",
       [](const auto& in) { return evsoftmax(in[0], Tensor(), true, true); },
       {scores},
       0},
      {"softmax", [](const auto& in) { return softmax(in[0]); }, {big}, 0},
      {"log_softmax", [](const auto& in) { return log_softmax(in[0]); }, {big}, 0},
      // The weight and bias gradients sum fixed row chunks in order (kernels/layer_norm.cpp).
      {"layer_norm",
       [](const auto& in) { return layer_norm(in[0], in[1], in[2]); },
       {big, gamma, beta},
       0},
      {"gelu", [](const auto& in) { return gelu(in[0]); }, {big}, 0},
      {"add broadcast", [](const auto& in) { return add(in[0], in[1]); }, {big, gamma}, 0},
      {"sum over rows", [](const auto& in) { return sum(in[0], {0}); }, {big}, 0},
      {"max over columns", [](const auto& in) { return max(in[0], 1); }, {big}, 0},
      {"matmul (oneDNN)",
       [](const auto& in) { return matmul(in[0], in[1]); },
       {big, weight},
       1e-5f},
      // The mean loss adds per-thread partial sums (an OpenMP reduction).
      {"cross_entropy",
       [&](const auto& in) { return cross_entropy(in[0], targets); },
       {big},
       1e-6f},
      {"transpose + contiguous",
       [](const auto& in) { return contiguous(transpose(in[0], 0, 1)); },
       {big},
       0},
  };
  for (const Row& row : rows) {
    CAPTURE(std::string(row.name));
    std::vector<float> one;
    {
      ThreadCount team(1);
      one = forward_and_gradients(row.op, row.inputs);
    }
    for (int threads : {2, 3}) {
      CAPTURE(threads);
      ThreadCount team(threads);
      // Twice per thread count: the same count must give the same bits every time.
      const std::vector<float> a = forward_and_gradients(row.op, row.inputs);
      const std::vector<float> b = forward_and_gradients(row.op, row.inputs);
      CHECK(bit_identical(a, b));
      if (row.tolerance == 0) {
        CHECK(bit_identical(a, one));
      } else {
        const float difference = max_relative_difference(a, one);
        CHECK(difference <= row.tolerance);
        if (difference > 0)
          MESSAGE(std::string(row.name), ", ", threads, " threads vs 1: relative difference ",
                  difference);
      }
    }
  }
}

TEST_CASE("AdamW's update across 1, 2 and 3 threads: the same bits") {
  // Each element's update stands alone, so how the threads split the array must not change a
  // bit of it. The split moves which elements the vector loop's scalar head and tail take: a
  // loop where the compiler fused multiply-adds in the vector body but not in those scalar parts
  // would round them differently. An odd length past the threading threshold puts each thread's
  // first element at a different alignment.
  const Shape shape{5, 19661};
  std::vector<float> one;
  for (int threads : {1, 2, 3}) {
    CAPTURE(threads);
    ThreadCount team(threads);
    Tensor w = random_tensor(shape, 7).requires_grad_();
    nn::AdamW adamw({{"w", w}}, {});
    for (uint64_t step = 0; step < 3; ++step) {
      w.set_grad(random_tensor(shape, 100 + step));
      adamw.step();
    }
    std::vector<float> state = w.to_vector();
    for (const auto& [name, buffer] : adamw.state_tensors()) {
      const std::vector<float> v = buffer.to_vector();
      state.insert(state.end(), v.begin(), v.end());
    }
    if (threads == 1)
      one = state;
    else
      CHECK(bit_identical(state, one));
  }
}

TEST_CASE("training with 1 and 2 threads: the same curve up to float rounding") {
  ScratchDir dir("determinism-threads");
  const nn::TrainOptions options = tiny_run(write_corpus(dir));
  std::vector<float> one, two;
  {
    ThreadCount team(1);
    one = run_losses_and_parameters(options);
  }
  {
    ThreadCount team(2);
    two = run_losses_and_parameters(options);
  }
  // Losses only (the first `steps` entries): within 1e-4 relative after 6 steps.
  for (int64_t s = 0; s < options.steps; ++s) {
    CAPTURE(s);
    CHECK(two[static_cast<size_t>(s)] ==
          doctest::Approx(one[static_cast<size_t>(s)]).epsilon(1e-4));
  }
  MESSAGE("1 vs 2 threads, bit-identical: ", std::string(bit_identical(one, two) ? "yes" : "no"),
          "; largest relative difference over losses and parameters: ",
          max_relative_difference(two, one));
}
