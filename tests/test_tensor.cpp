// Tensor: storage alignment, creation, views without copies, contiguous(), element access.
#include <doctest/doctest.h>

#include <cstdint>

#include "engine/error.hpp"
#include "engine/ops.hpp"
#include "engine/strided_copy.hpp"
#include "engine/tensor.hpp"

using namespace mmx;

TEST_CASE("storage is 64-byte aligned and shapes have row-major strides") {
  Tensor t = Tensor::zeros({3, 5, 7});
  CHECK(reinterpret_cast<uintptr_t>(t.data()) % 64 == 0);
  CHECK(t.strides() == Shape{35, 7, 1});
  CHECK(t.numel() == 105);
  CHECK(t.is_contiguous());
  CHECK(t.size(-1) == 7);
}

TEST_CASE("creation helpers") {
  CHECK(Tensor::ones({2, 2}).to_vector() == std::vector<float>{1, 1, 1, 1});
  CHECK(Tensor::full({3}, 2.5f).to_vector() == std::vector<float>{2.5f, 2.5f, 2.5f});
  CHECK(Tensor::arange(0, 5).to_vector() == std::vector<float>{0, 1, 2, 3, 4});
  CHECK(Tensor::arange(1, 2, 0.25f).numel() == 4);
  CHECK(Tensor::scalar(3.0f).item() == 3.0f);
  CHECK(Tensor::scalar(3.0f).dim() == 0);
  Tensor d = Tensor::from_data({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(d.at({1, 2}) == 6.0f);
  CHECK_THROWS_AS(Tensor::from_data({1, 2, 3}, {2, 2}), Error);
}

TEST_CASE("seeded generators repeat, and their statistics are right") {
  Generator a(7), b(7);
  Tensor x = Tensor::randn({10000}, a);
  CHECK(x.to_vector() == Tensor::randn({10000}, b).to_vector());
  double mean = 0, var = 0;
  for (float v : x.to_vector()) mean += v;
  mean /= 10000;
  for (float v : x.to_vector()) var += (v - mean) * (v - mean);
  var /= 10000;
  CHECK(std::abs(mean) < 0.05);
  CHECK(std::abs(var - 1.0) < 0.05);
  Tensor u = Tensor::uniform({1000}, a, -2.0f, 3.0f);
  for (float v : u.to_vector()) CHECK((v >= -2.0f && v < 3.0f));
  // Saving and restoring the state replays the stream exactly.
  const Generator::State s = a.state();
  const uint64_t first = a.next_u64();
  a.set_state(s);
  CHECK(a.next_u64() == first);
}

TEST_CASE("views share storage and copy nothing") {
  Tensor x = Tensor::arange(0, 24).reshape({2, 3, 4});
  Tensor t = x.transpose(0, 2);
  CHECK(t.shares_storage(x));
  CHECK(t.shape() == Shape{4, 3, 2});
  CHECK(t.at({3, 2, 1}) == x.at({1, 2, 3}));
  CHECK_FALSE(t.is_contiguous());

  Tensor s = x.slice(1, 1, 3);
  CHECK(s.shares_storage(x));
  CHECK(s.shape() == Shape{2, 2, 4});
  CHECK(s.at({1, 0, 2}) == x.at({1, 1, 2}));

  Tensor e = Tensor::arange(0, 3).reshape({3, 1}).expand({3, 4});
  CHECK(e.strides()[1] == 0);
  CHECK(e.at({2, 3}) == 2.0f);

  Tensor p = x.permute({1, 2, 0});
  CHECK(p.at({2, 3, 1}) == x.at({1, 2, 3}));

  // Writes through a view are visible in the base.
  s.set({0, 0, 0}, 100.0f);
  CHECK(x.at({0, 1, 0}) == 100.0f);
}

TEST_CASE("contiguous copies only when needed and keeps element order") {
  Tensor x = Tensor::arange(0, 6).reshape({2, 3});
  CHECK(x.contiguous().shares_storage(x));
  Tensor t = x.transpose(0, 1).contiguous();
  CHECK_FALSE(t.shares_storage(x));
  CHECK(t.to_vector() == std::vector<float>{0, 3, 1, 4, 2, 5});
  CHECK(t.is_contiguous());
  // Reshaping a non-contiguous view goes through a copy.
  CHECK(x.transpose(0, 1).reshape({6}).to_vector() == std::vector<float>{0, 3, 1, 4, 2, 5});
  CHECK(x.reshape({-1, 2}).shape() == Shape{3, 2});
}

TEST_CASE("cat and split are inverse") {
  Tensor a = Tensor::arange(0, 6).reshape({2, 3});
  Tensor b = Tensor::arange(6, 10).reshape({2, 2});
  Tensor c = cat({a, b}, 1);
  CHECK(c.shape() == Shape{2, 5});
  CHECK(c.to_vector() == std::vector<float>{0, 1, 2, 6, 7, 3, 4, 5, 8, 9});
  std::vector<Tensor> parts = split(c, {3, 2}, 1);
  CHECK(parts[0].to_vector() == a.to_vector());
  CHECK(parts[1].to_vector() == b.to_vector());
}

TEST_CASE("bad shapes, axes and indices raise errors that name the op and shapes") {
  Tensor x = Tensor::zeros({2, 3});
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message([&] { x.reshape({4, 2}); }).find("reshape: cannot reshape [2, 3]") == 0);
  CHECK(message([&] { x.transpose(0, 2); }).find("axis 2 out of range") != std::string::npos);
  CHECK(message([&] { x.slice(1, 2, 5); }).find("slice: range [2, 5)") == 0);
  CHECK(message([&] { x.expand({4, 3}); }).find("expand: cannot expand [2, 3]") == 0);
  CHECK(message([&] { x.at({2, 0}); }).find("index 2 out of range") != std::string::npos);
  CHECK(message([&] { x.permute({0, 0}); }).find("repeated") != std::string::npos);
  CHECK(message([&] {
          cat({x, Tensor::zeros({3, 3})}, 1);
        }).find("cat: shapes [2, 3] and [3, 3]") == 0);
  CHECK(message([&] { Tensor().shape(); }).find("undefined") != std::string::npos);
  CHECK(message([&] { x.item(); }).find("item") == 0);
}

TEST_CASE("printing shows values, shape and elides long axes") {
  const std::string s = Tensor::arange(0, 3).to_string();
  CHECK(s == "Tensor([0, 1, 2], shape=[3])");
  const std::string l = Tensor::arange(0, 100).to_string();
  CHECK(l.find("...") != std::string::npos);
  CHECK(l.find("99") != std::string::npos);
}

TEST_CASE("the strided copy matches its naive walk on every kind of view") {
  Generator gen(9);
  Tensor base = Tensor::randn({4, 5, 6}, gen);
  const std::vector<Tensor> views = {
      base,
      base.transpose(0, 2),
      base.permute({1, 2, 0}),
      base.slice(2, 1, 4),
      base.slice(0, 1, 3).transpose(1, 2),
      Tensor::randn({5, 1}, gen).expand({3, 5, 7}),
      Tensor::scalar(2.0f),
      Tensor::randn({300, 400}, gen).transpose(0, 1)};  // parallel path
  for (const Tensor& v : views) {
    std::vector<float> fast(static_cast<size_t>(v.numel())), naive(fast.size());
    copy_strided(v, fast.data());
    copy_strided_naive(v, naive.data());
    CHECK(fast == naive);
  }
}
