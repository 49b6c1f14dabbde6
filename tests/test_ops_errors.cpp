// Bad input to the elementwise, reduction and selection ops raises mmx::Error whose message
// names the op and the shapes involved; a failed op records nothing on the tape.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "engine/autograd/tape.hpp"
#include "engine/error.hpp"
#include "engine/kernels/elementwise.hpp"
#include "engine/ops.hpp"

using namespace mmx;

namespace {

struct ErrorRow {
  std::string name;
  std::function<void()> call;
  std::vector<std::string> message_parts;  // each must appear in the error text
};

// A leaf that requires grad, so a failing op would record a node if it got that far.
Tensor t(const Shape& shape) {
  return Tensor::ones(shape).requires_grad_();
}

}  // namespace

TEST_CASE("bad input raises mmx::Error naming the op and the shapes") {
  const std::vector<ErrorRow> rows = {
      {"add [2,3]+[4]",
       [] {
         add(t({2, 3}), t({4}));
       },
       {"add", "do not broadcast", "[2, 3]", "[4]"}},
      {"sub [3,2]-[3]",
       [] {
         sub(t({3, 2}), t({3}));
       },
       {"sub", "[3, 2]", "[3]"}},
      {"mul [2,3,4]*[3]",
       [] {
         mul(t({2, 3, 4}), t({3}));
       },
       {"mul", "[2, 3, 4]", "[3]"}},
      {"div [5]/[2,4]",
       [] {
         div(t({5}), t({2, 4}));
       },
       {"div", "[5]", "[2, 4]"}},
      {"operator+ goes through add", [] { (void)(t({2}) + t({3})); }, {"add", "[2]", "[3]"}},
      {"sum axis 5 of a 2-d",
       [] {
         sum(t({2, 3}), {5});
       },
       {"sum", "axis 5", "2-d", "[2, 3]"}},
      {"sum repeated axis",
       [] {
         sum(t({2, 3}), {1, -1});
       },
       {"sum", "repeated", "[2, 3]"}},
      {"mean axis -3 of a 2-d",
       [] {
         mean(t({2, 3}), {-3});
       },
       {"mean", "axis -3", "[2, 3]"}},
      {"max axis 2 of a 2-d",
       [] {
         max(t({2, 3}), 2);
       },
       {"max", "axis 2", "[2, 3]"}},
      {"max over an empty axis",
       [] {
         max(t({2, 0}), 1);
       },
       {"max", "empty", "[2, 0]"}},
      {"where: cond does not broadcast",
       [] { where(Tensor::ones({2}), t({3}), t({3})); },
       {"where", "[2]", "[3]"}},
      {"where: a and b do not broadcast",
       [] {
         where(Tensor::ones({1}), t({2, 3}), t({4}));
       },
       {"where", "[2, 3]", "[4]"}},
      {"masked_fill: mask larger than x",
       [] {
         masked_fill(t({3}), Tensor::ones({2, 3}), 0.0f);
       },
       {"masked_fill", "[2, 3]", "[3]"}},
      {"masked_fill: mask does not broadcast",
       [] {
         masked_fill(t({2, 3}), Tensor::ones({5}), 0.0f);
       },
       {"masked_fill", "[2, 3]", "[5]"}},
      {"eltwise backward: gradient of another shape",
       [] {
         kernels::eltwise_backward(kernels::Eltwise::Exp, Tensor::ones({2, 3}), Tensor::ones({3}));
       },
       {"exp backward", "[3]", "[2, 3]"}},
  };
  for (const ErrorRow& row : rows) {
    CAPTURE(row.name);
    autograd::clear_tape();
    bool thrown = false;
    try {
      row.call();
    } catch (const Error& e) {
      thrown = true;
      const std::string text = e.what();
      CAPTURE(text);
      for (const std::string& part : row.message_parts) CHECK(text.find(part) != std::string::npos);
    }
    CHECK(thrown);
    CHECK(autograd::tape_size() == 0);
  }
}
