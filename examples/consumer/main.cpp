// A two-layer GPT with MultiMax attention, trained through the installed package only: a few
// AdamW steps on generated token data, printing the loss. Exits non-zero if the loss did not fall.
#include <cstdio>
#include <vector>

#include <mmx/mmx.hpp>

namespace {

// Generated data: each row counts up by a row-specific stride modulo the vocabulary, so the
// next token is predictable from the previous two and a small model learns it in a few steps.
struct Batch {
  std::vector<int64_t> ids, targets;
};

Batch counting_batch(int64_t batch, int64_t seq, int64_t vocab, mmx::Generator& gen) {
  Batch b;
  for (int64_t row = 0; row < batch; ++row) {
    const int64_t start = static_cast<int64_t>(gen.below(static_cast<uint64_t>(vocab)));
    const int64_t stride = 1 + static_cast<int64_t>(gen.below(3));
    for (int64_t t = 0; t <= seq; ++t) {
      const int64_t token = (start + stride * t) % vocab;
      if (t < seq) b.ids.push_back(token);
      if (t > 0) b.targets.push_back(token);
    }
  }
  return b;
}

}  // namespace

int main() {
  mmx::nn::GPTConfig config;
  config.vocab = 16;
  config.d_model = 32;
  config.layers = 2;
  config.heads = 2;
  config.seq_len = 16;
  config.attention.kind = mmx::nn::AttentionKind::MultiMax;

  mmx::nn::GPT model(config, /*seed=*/0);
  mmx::nn::AdamWOptions options;
  options.learning_rate = 3e-3f;
  mmx::nn::AdamW optimizer(model.named_parameters(), options);
  mmx::Generator data_gen(1);

  const int steps = 30;
  const int64_t batch = 8;
  float first = 0.0f, last = 0.0f;
  for (int step = 1; step <= steps; ++step) {
    const Batch b = counting_batch(batch, config.seq_len, config.vocab, data_gen);
    optimizer.zero_grad();
    mmx::Tensor loss = model.loss(b.ids, b.targets, batch, config.seq_len);
    loss.backward();
    optimizer.step();
    last = loss.item();
    if (step == 1) first = last;
    std::printf("step %2d  loss %.4f\n", step, static_cast<double>(last));
  }
  if (!(last < first)) {
    std::fprintf(stderr, "consumer: the loss did not fall (%.4f -> %.4f)\n",
                 static_cast<double>(first), static_cast<double>(last));
    return 1;
  }
  std::printf("loss fell from %.4f to %.4f\n", static_cast<double>(first),
              static_cast<double>(last));
  return 0;
}
