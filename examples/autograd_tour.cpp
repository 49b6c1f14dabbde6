// A tour of the autograd, micrograd style: build a small expression out of tensors, call
// backward(), and read the gradients. Every number printed here can be checked by hand.
#include <cstdio>

#include "engine/autograd/tape.hpp"
#include "engine/ops.hpp"

using namespace mmx;

int main() {
  // 1. Scalars. Leaves that should get gradients say so with requires_grad_().
  Tensor a = Tensor::scalar(-4.0f).requires_grad_();
  Tensor b = Tensor::scalar(2.0f).requires_grad_();

  // 2. Every op records one node on the tape: its backward closure and what it saved.
  Tensor c = a + b;                                              // -2
  Tensor d = a * b + pow(b, 3.0f);                               // -8 + 8 = 0
  Tensor e = c - d;                                              // -2
  Tensor f = e * e;                                              // 4
  Tensor g = f / 2.0f + relu(Tensor::scalar(10.0f) + a * 2.0f);  // 2 + 2 = 4
  std::printf("forward:  g = %.4f   (tape holds %zu nodes)\n", g.item(), autograd::tape_size());

  // 3. backward() walks the tape in reverse, accumulating dg/d(leaf) into .grad().
  g.backward();
  // By hand: dg/de = e = -2; de/da = 1 - b = -1; relu'(2) * 2 = 2 -> dg/da = 2 + 2 = 4.
  //          de/db = 1 - (a + 3b^2) = 1 - 8 = -7 -> dg/db = (-2)(-7) = 14.
  std::printf("backward: dg/da = %.4f (by hand 4)   dg/db = %.4f (by hand 14)\n", a.grad().item(),
              b.grad().item());
  std::printf("          the tape is cleared after backward: %zu nodes\n", autograd::tape_size());

  // 4. Tensors: the same ops broadcast over shapes. A tiny linear layer and its gradients.
  Generator gen(0);
  Tensor x = Tensor::randn({4, 3}, gen);                   // a batch of 4 inputs
  Tensor w = Tensor::randn({2, 3}, gen).requires_grad_();  // 2 outputs
  Tensor bias = Tensor::zeros({2}).requires_grad_();
  Tensor y = tanh(matmul(x, w.transpose(0, 1)) + bias);  // [4, 2]; transpose is a view
  Tensor loss = mean(y * y);
  loss.backward();
  std::printf("\nlinear layer: loss = %.5f\n", loss.item());
  std::printf("dloss/dw =\n%s\n", w.grad().to_string().c_str());
  std::printf("dloss/dbias = %s\n", bias.grad().to_string().c_str());

  // 5. Evaluation code runs under NoGrad: nothing is recorded, no memory is kept for backward.
  {
    NoGrad no_grad;
    Tensor z = tanh(matmul(x, w.transpose(0, 1)));
    std::printf("\nunder NoGrad: requires_grad = %s, tape holds %zu nodes\n",
                z.requires_grad() ? "true" : "false", autograd::tape_size());
  }
  return 0;
}
