// Train a small ViT on Fashion-MNIST and report test accuracy after each epoch.
//
//   fashion_mnist_vit [epochs] [patch] [d_model] [layers] [heads] [batch] [peak_lr] [attention]
//
// The pieces: load_fashion_mnist reads the gzipped IDX files and normalises the pixels;
// ShuffledBatches draws a fresh seeded permutation each epoch; the ViT turns 28x28 images into
// patch tokens, attends, averages the tokens and classifies; AdamW with warmup + cosine trains it.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <string>

#include "engine/autograd/tape.hpp"
#include "nn/data/image_dataset.hpp"
#include "nn/optim/adamw.hpp"
#include "nn/optim/grad_clip.hpp"
#include "nn/optim/lr_schedule.hpp"
#include "nn/vit.hpp"

using namespace mmx;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

// Fraction of `data` the model classifies correctly, in fixed-size chunks.
double accuracy(const nn::ViT& model, const data::ImageDataset& data) {
  constexpr int64_t kChunk = 500;
  int64_t correct = 0;
  for (int64_t start = 0; start < data.size(); start += kChunk) {
    const data::ImageBatch batch = data.range(start, std::min(kChunk, data.size() - start));
    const std::vector<int64_t> predicted = model.predict(batch.images);
    for (size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == batch.labels[i];
  }
  return static_cast<double>(correct) / static_cast<double>(data.size());
}

}  // namespace

int main(int argc, char** argv) {
  const auto arg = [&](int i, const char* fallback) { return std::string(i < argc ? argv[i] : fallback); };
  const int64_t epochs = std::stoll(arg(1, "2"));
  nn::ViTConfig config;
  config.patch_size = std::stoll(arg(2, "7"));
  config.d_model = std::stoll(arg(3, "64"));
  config.layers = std::stoll(arg(4, "4"));
  config.heads = std::stoll(arg(5, "4"));
  const int64_t batch_size = std::stoll(arg(6, "128"));
  const float peak_lr = std::stof(arg(7, "2e-3"));
  config.attention = nn::parse_attention_kind(arg(8, "softmax"));

  auto start = std::chrono::steady_clock::now();
  const data::FashionMnist mnist = data::load_fashion_mnist();
  std::printf("loaded %lld train / %lld test images in %.1f s (pixel mean %.4f, std %.4f)\n",
              static_cast<long long>(mnist.train.size()), static_cast<long long>(mnist.test.size()),
              seconds_since(start), mnist.normalization.mean, mnist.normalization.std);
  std::fflush(stdout);

  nn::ViT model(config, /*seed=*/1);
  data::ShuffledBatches batches(mnist.train.size(), batch_size, /*seed=*/2);
  const int64_t steps = epochs * batches.batches_per_epoch();
  nn::AdamW optimizer(model.named_parameters(),
                      nn::AdamWOptions{.learning_rate = peak_lr, .weight_decay = 0.05f});
  const nn::WarmupCosineSchedule schedule{.peak_lr = peak_lr, .min_lr = peak_lr / 20,
                                          .warmup_steps = steps / 20, .total_steps = steps};
  std::printf("%lld parameters, %lld tokens per image, %lld steps of %lld images\n",
              static_cast<long long>(model.parameter_count()),
              static_cast<long long>(config.tokens()), static_cast<long long>(steps),
              static_cast<long long>(batch_size));

  start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_seconds();
  double loss_sum = 0.0;
  for (int64_t step = 0; step < steps; ++step) {
    const data::ImageBatch batch = mnist.train.gather(batches.next());
    optimizer.set_learning_rate(schedule.lr_at(step));
    optimizer.zero_grad();
    Tensor loss = model.loss(batch.images, batch.labels);
    loss.backward();
    nn::clip_grad_norm(model.parameters(), 1.0f);
    optimizer.step();
    loss_sum += loss.item();
    if ((step + 1) % 100 == 0) {
      // CPU time over all threads as well as wall time: on a busy machine the two differ.
      std::printf("step %lld: loss %.4f, %.1f ms/step wall, %.1f ms/step cpu\n",
                  static_cast<long long>(step + 1), loss.item(),
                  1000.0 * seconds_since(start) / static_cast<double>(step + 1),
                  1000.0 * (cpu_seconds() - cpu_start) / static_cast<double>(step + 1));
      std::fflush(stdout);
    }
    if ((step + 1) % batches.batches_per_epoch() == 0) {
      const double train_seconds = seconds_since(start);
      const auto eval_start = std::chrono::steady_clock::now();
      model.eval();
      const double test_accuracy = accuracy(model, mnist.test);
      model.train();
      std::printf("epoch %lld: mean train loss %.4f, test accuracy %.2f%% (eval %.1f s), "
                  "%.1f s training so far\n",
                  static_cast<long long>(batches.epoch() + 1),
                  loss_sum / static_cast<double>(batches.batches_per_epoch()),
                  100.0 * test_accuracy, seconds_since(eval_start), train_seconds);
      std::fflush(stdout);
      loss_sum = 0.0;
      start += std::chrono::steady_clock::now() - eval_start;  // training time only
    }
  }
}
