#include "nn/distributed/data_parallel.hpp"

#include <algorithm>

#include "engine/error.hpp"

namespace mmx::nn::distributed {

RankRows rank_rows(int64_t global_batch, const Communicator& comm) {
  const int64_t ranks = comm.size();
  MMX_CHECK(global_batch % ranks == 0, "train: `batch` ", global_batch,
            " is not a multiple of the ", ranks,
            " ranks: data-parallel training gives every rank an equal share of each batch; use "
            "a `batch` divisible by ",
            ranks, " (or a different -np)");
  const int64_t share = global_batch / ranks;
  return {comm.rank() * share, share};
}

namespace {
// A parameter's gradient as contiguous memory (made so in place, as clip_grad_norm does), or an
// undefined tensor.
Tensor contiguous_grad(Tensor& parameter) {
  Tensor g = parameter.grad();
  if (g.defined() && !g.is_contiguous()) {
    g = g.contiguous();
    parameter.set_grad(g);
  }
  return g;
}
}  // namespace

void average_gradients(const std::vector<Tensor>& parameters, Communicator& comm,
                       size_t bucket_bytes) {
  if (comm.size() == 1) return;
  MMX_CHECK(bucket_bytes >= sizeof(float), "average_gradients: bucket of ", bucket_bytes,
            " bytes holds no float");
  std::vector<Tensor> params = parameters;
  int64_t total = 0;
  for (const Tensor& p : params) total += p.numel();
  // Reused across steps: the buffer is as large as the model's gradients.
  thread_local std::vector<float> flat;
  flat.assign(static_cast<size_t>(total), 0.0f);

  int64_t at = 0;
  for (Tensor& p : params) {
    const Tensor g = contiguous_grad(p);
    if (g.defined()) std::copy_n(g.data(), g.numel(), flat.begin() + at);
    at += p.numel();
  }
  const size_t bucket = bucket_bytes / sizeof(float);
  for (size_t first = 0; first < flat.size(); first += bucket)
    comm.allreduce_sum(
        std::span<float>(flat).subspan(first, std::min(bucket, flat.size() - first)));

  const float scale = 1.0f / static_cast<float>(comm.size());
  at = 0;
  for (Tensor& p : params) {
    const auto from = flat.begin() + at;
    const auto to = from + p.numel();
    at += p.numel();
    Tensor g = contiguous_grad(p);
    if (!g.defined()) {
      if (std::all_of(from, to, [](float v) { return v == 0.0f; })) continue;
      g = Tensor::zeros(p.shape());
      p.set_grad(g);
    }
    float* data = g.data();
    for (auto it = from; it != to; ++it) *data++ = *it * scale;
    g.bump_version();
  }
}

RankDropoutStream::RankDropoutStream(Generator& dropout, const Communicator& comm)
    : dropout_(dropout), active_(comm.size() > 1) {
  if (!active_) return;
  const uint64_t seed = dropout_.next_u64();
  shared_after_ = dropout_.state();
  // Generator seeds through splitmix64, so seeds that differ by the rank give unrelated streams.
  dropout_.set_state(Generator(seed + static_cast<uint64_t>(comm.rank())).state());
}

RankDropoutStream::~RankDropoutStream() {
  if (active_) dropout_.set_state(shared_after_);
}

}  // namespace mmx::nn::distributed
