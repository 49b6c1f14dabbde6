// Weights packed into the matmul primitive's own layout (kernels::KeepOperands::b_packed): each
// layout a weight is read in (W for dX, W^T for the forward) packed once per version, the two
// kept apart even where their shapes and packed layouts are the same (a square weight), and the
// products the same as unpacked ones. bf16 packing is in test_bf16.
#include <doctest/doctest.h>

#include "engine/kernels/dense_naive.hpp"
#include "engine/kernels/matmul.hpp"
#include "engine/ops.hpp"
#include "engine/random.hpp"
#include "small_integers.hpp"

using namespace mmx;

namespace {

std::vector<float> packed_product(const Tensor& a, const Tensor& b) {
  return kernels::matmul_forward(a, b, Tensor(), {.b_packed = true}).to_vector();
}

}  // namespace

TEST_CASE("packed weights: once per layout and version, W and W^T of a square weight apart") {
  Generator gen(3);
  Tensor w = small_integers({24, 24}, gen);  // square: W and W^T pack to the same shape and layout
  const Tensor w_t = kernels::matrix_transpose_view(w);
  const Tensor x = small_integers({40, 24}, gen);

  const int64_t before = kernels::matmul_weight_packs();
  CHECK(packed_product(x, w_t) == kernels::matmul_forward_naive(x, w_t).to_vector());
  CHECK(packed_product(x, w) == kernels::matmul_forward_naive(x, w).to_vector());
  CHECK(kernels::matmul_weight_packs() - before == 2);
  // Again, and with other rows: both packs reused.
  const Tensor x2 = small_integers({7, 24}, gen);
  CHECK(packed_product(x2, w_t) == kernels::matmul_forward_naive(x2, w_t).to_vector());
  CHECK(packed_product(x, w) == kernels::matmul_forward_naive(x, w).to_vector());
  CHECK(kernels::matmul_weight_packs() - before == 2);

  // An in-place update (what the optimizer does) bumps the version: packed again.
  w.copy_(small_integers({24, 24}, gen));
  CHECK(packed_product(x, w_t) == kernels::matmul_forward_naive(x, w_t).to_vector());
  CHECK(kernels::matmul_weight_packs() - before == 3);

  // A batched product is not a layer's weight: nothing is packed.
  const Tensor batch = small_integers({2, 5, 24}, gen), batch_w = small_integers({2, 24, 6}, gen);
  CHECK(packed_product(batch, batch_w) ==
        kernels::matmul_forward_naive(batch, batch_w).to_vector());
  CHECK(kernels::matmul_weight_packs() - before == 3);
}

TEST_CASE("linear: a training step packs its weight twice, then reuses both packs") {
  Generator gen(4);
  Tensor w = small_integers({16, 16}, gen).requires_grad_();
  const Tensor b = small_integers({16}, gen).requires_grad_();
  const auto step = [&] {
    Tensor x = small_integers({3, 5, 16}, gen).requires_grad_();
    const Tensor gy = small_integers({3, 5, 16}, gen);
    const Tensor y = linear(x, w, b);
    y.backward(gy);
    // The unpacked truth: y = x W^T + b, dX = gy W.
    const Tensor x_rows = x.detach().reshape({15, 16}), gy_rows = gy.reshape({15, 16});
    const Tensor expected_y =
        kernels::matmul_forward_naive(x_rows, kernels::matrix_transpose_view(w.detach()));
    std::vector<float> want = expected_y.to_vector();
    for (size_t i = 0; i < want.size(); ++i) want[i] += b.to_vector()[i % 16];
    CHECK(y.to_vector() == want);
    CHECK(x.grad().to_vector() == kernels::matmul_forward_naive(gy_rows, w.detach()).to_vector());
  };
  const int64_t before = kernels::matmul_weight_packs();
  step();
  CHECK(kernels::matmul_weight_packs() - before == 2);  // W^T for the forward, W for dX
  step();
  CHECK(kernels::matmul_weight_packs() - before == 2);
  w.detach().copy_(
      small_integers({16, 16}, gen));  // the optimizer's update, through the leaf's storage
  step();
  CHECK(kernels::matmul_weight_packs() - before == 4);
}
