// Data-parallel training's pieces on a scripted communicator (no MPI needed): each rank's share
// of a batch, the bucketed gradient averaging, per-rank dropout streams, and that the shares of
// one global batch are exactly the rows a single process draws.
#include <doctest/doctest.h>

#include <numeric>

#include "engine/error.hpp"
#include "nn/data/text_dataset.hpp"
#include "nn/distributed/data_parallel.hpp"

using namespace mmx;
using nn::distributed::Communicator;

namespace {
// Rank `rank` of `size`; the other ranks' gradients, summed and flattened in parameter order,
// are `others`: allreduce adds the slice of them that each message covers, as MPI would.
class ScriptedCommunicator final : public Communicator {
 public:
  ScriptedCommunicator(int rank, int size, std::vector<float> others = {})
      : rank_(rank), size_(size), others_(std::move(others)) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allreduce_sum(std::span<float> values) override {
    messages.push_back(values.size());
    for (float& v : values) v += others_.empty() ? 0.0f : others_.at(offset_++);
  }
  double allreduce_sum(double value) override { return value * size_; }
  uint64_t bytes_sent() const override { return 0; }
  double seconds_in_collectives() const override { return 0; }
  [[noreturn]] void abort(const std::string& message) override { throw Error(message); }

  std::vector<size_t> messages;  ///< floats per allreduce call, in order

 private:
  int rank_, size_;
  std::vector<float> others_;
  size_t offset_ = 0;
};

Tensor parameter_with_grad(const Shape& shape, std::vector<float> grad) {
  Tensor p = Tensor::zeros(shape);
  p.requires_grad_();
  p.set_grad(Tensor::from_data(grad, shape));
  return p;
}
}  // namespace

TEST_CASE("rank_rows: equal contiguous shares, or an error naming batch and ranks") {
  struct Row {
    int rank, size;
    int64_t batch, begin, count;
  };
  for (const Row& r : std::vector<Row>{
           {0, 1, 5, 0, 5}, {0, 2, 8, 0, 4}, {1, 2, 8, 4, 4}, {2, 4, 8, 4, 2}, {3, 4, 4, 3, 1}}) {
    CAPTURE(r.rank);
    CAPTURE(r.size);
    const nn::distributed::RankRows rows =
        nn::distributed::rank_rows(r.batch, ScriptedCommunicator(r.rank, r.size));
    CHECK(rows.begin == r.begin);
    CHECK(rows.count == r.count);
  }
  CHECK_THROWS_WITH_AS(nn::distributed::rank_rows(6, ScriptedCommunicator(0, 4)),
                       doctest::Contains("`batch` 6 is not a multiple of the 4 ranks"), Error);
}

TEST_CASE("average_gradients: (mine + others) / N through buckets that straddle parameters") {
  // 2 + 6 + 3 = 11 floats in buckets of 4 floats: messages of 4, 4, 3.
  Tensor a = parameter_with_grad({2}, {1, 2});
  Tensor b = parameter_with_grad({2, 3}, {3, 4, 5, 6, 7, 8});
  Tensor c = parameter_with_grad({3}, {9, 10, 11});
  std::vector<float> others(11);
  std::iota(others.begin(), others.end(), 100.0f);
  ScriptedCommunicator comm(1, 2, others);
  nn::distributed::average_gradients({a, b, c}, comm, 4 * sizeof(float));
  CHECK(comm.messages == std::vector<size_t>{4, 4, 3});
  std::vector<float> averaged;
  for (const Tensor& p : {a, b, c})
    for (float v : p.grad().to_vector()) averaged.push_back(v);
  for (size_t i = 0; i < averaged.size(); ++i) {
    CAPTURE(i);
    CHECK(averaged[i] == doctest::Approx((static_cast<float>(i + 1) + others[i]) / 2));
  }
}

TEST_CASE("average_gradients: a missing gradient counts as zeros; one process sends nothing") {
  Tensor with = parameter_with_grad({2}, {4, 6});
  Tensor without = Tensor::zeros({2});
  without.requires_grad_();
  Tensor never = Tensor::zeros({1});
  never.requires_grad_();
  ScriptedCommunicator comm(0, 2, {2, 2, 8, 0, 0});
  nn::distributed::average_gradients({with, without, never}, comm);
  CHECK(comm.messages == std::vector<size_t>{5});  // one bucket holds everything
  CHECK(with.grad().to_vector() == std::vector<float>{3, 4});
  REQUIRE(without.grad().defined());  // another rank had a gradient for it
  CHECK(without.grad().to_vector() == std::vector<float>{4, 0});
  CHECK_FALSE(never.grad().defined());  // no rank had one

  ScriptedCommunicator alone(0, 1);
  nn::distributed::average_gradients({with}, alone);
  CHECK(alone.messages.empty());
  CHECK(with.grad().to_vector() == std::vector<float>{3, 4});
}

TEST_CASE("the ranks' shares of a global batch are exactly the rows one process draws") {
  std::vector<int64_t> ids(500);
  std::iota(ids.begin(), ids.end(), 0);
  const data::TextDataset dataset(ids);
  Generator single_gen(7);
  const data::TokenBatch whole = dataset.sample(data::Split::train, 6, 5, single_gen);
  for (int size : {1, 2, 3}) {
    CAPTURE(size);
    std::vector<int64_t> inputs, targets;
    for (int rank = 0; rank < size; ++rank) {
      Generator gen(7);
      const auto rows = nn::distributed::rank_rows(6, ScriptedCommunicator(rank, size));
      const data::TokenBatch share =
          dataset.sample(data::Split::train, 6, 5, gen, rows.begin, rows.count);
      CHECK(share.batch == 6 / size);
      CHECK(gen.state() == single_gen.state());  // every rank's stream advances alike
      inputs.insert(inputs.end(), share.inputs.begin(), share.inputs.end());
      targets.insert(targets.end(), share.targets.begin(), share.targets.end());
    }
    CHECK(inputs == whole.inputs);
    CHECK(targets == whole.targets);
  }
  Generator gen(7);
  CHECK_THROWS_WITH_AS(dataset.sample(data::Split::train, 6, 5, gen, 4, 3),
                       doctest::Contains("rows [4, 7) are not inside a batch of 6"), Error);
}

TEST_CASE("RankDropoutStream: own masks per rank, one shared stream after") {
  const Generator start(11);
  // One process: the stream is untouched.
  {
    Generator g = start;
    { const nn::distributed::RankDropoutStream guard(g, ScriptedCommunicator(0, 1)); }
    CHECK(g.state() == start.state());
  }
  std::vector<uint64_t> first_draws;
  std::vector<Generator::State> after;
  for (int rank = 0; rank < 2; ++rank) {
    Generator g = start;
    {
      const nn::distributed::RankDropoutStream guard(g, ScriptedCommunicator(rank, 2));
      first_draws.push_back(g.next_u64());
      g.next_u64();  // a rank may draw any amount inside
    }
    after.push_back(g.state());
  }
  CHECK(first_draws[0] != first_draws[1]);
  CHECK(after[0] == after[1]);
  CHECK(after[0] != start.state());  // the shared stream moved on, so the next step differs
}
