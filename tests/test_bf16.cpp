// bf16 matmuls (engine/precision.hpp): the products of bf16-rounded operands, accumulated in
// fp32, through every operand layout matmul_forward reads; the linear op's gradients; and a tiny
// GPT, ViT and translator run in bf16 whose losses fall like fp32's. Skipped, with a message, on
// a CPU without bf16.
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/kernels/dense_naive.hpp"
#include "engine/kernels/elementwise.hpp"
#include "engine/kernels/matmul.hpp"
#include "engine/kernels/reduce.hpp"
#include "engine/kernels/rows_product.hpp"
#include "engine/ops.hpp"
#include "engine/precision.hpp"
#include "nn/tasks/lm/lm_trainer.hpp"
#include "nn/tasks/trainer.hpp"
#include "scratch_dir.hpp"
#include "small_integers.hpp"
#include "tiny_task_data.hpp"

using namespace mmx;

namespace {

bool cpu_runs_bf16_matmul() {
  const MatmulPrecisionGuard bf16(MatmulPrecision::bf16);
  try {
    kernels::matmul_forward(Tensor::ones({2, 2}), Tensor::ones({2, 2}));
    return true;
  } catch (const Error& e) {
    MESSAGE("skipped: ", e.what());
    return false;
  }
}

enum class Layout { dense, b_transposed, a_transposed, a_column_window, b_expanded_batch };

struct Row {
  const char* name;
  Shape a, b;  // logical shapes of the operands
  Layout layout;
  bool bias;
};

const Row kRows[] = {
    {"plain", {5, 7}, {7, 3}, Layout::dense, false},
    {"with bias", {9, 16}, {16, 11}, Layout::dense, true},
    {"b transposed (a linear layer)", {6, 33}, {33, 10}, Layout::b_transposed, true},
    {"a a window of wider rows", {8, 12}, {12, 5}, Layout::a_column_window, false},
    {"batched", {3, 4, 6}, {3, 6, 5}, Layout::dense, false},
    {"b broadcast over the batch", {2, 5, 8}, {2, 8, 4}, Layout::b_expanded_batch, false},
    {"long inner axis", {4, 300}, {300, 6}, Layout::b_transposed, false},
    {"a transposed (a weight's gradient)", {7, 40}, {40, 9}, Layout::a_transposed, false},
};

// Values N(0, 1), or small integers (small_integers.hpp).
Tensor values(const Shape& shape, Generator& gen, bool integers) {
  return integers ? small_integers(shape, gen) : Tensor::randn(shape, gen);
}

struct Operands {
  Tensor a, b, bias;
};

Operands make_operands(const Row& row, Generator& gen, bool integers) {
  Operands o;
  const int64_t k = row.a.back();
  if (row.layout == Layout::a_column_window) {
    Shape wide = row.a;
    wide.back() = k + 3;
    o.a = Tensor::view_of(values(wide, gen, integers), row.a, contiguous_strides(wide), 2);
  } else if (row.layout == Layout::a_transposed) {
    o.a = kernels::matrix_transpose_view(values({row.a[1], row.a[0]}, gen, integers));
  } else {
    o.a = values(row.a, gen, integers);
  }
  if (row.layout == Layout::b_transposed) {
    o.b = kernels::matrix_transpose_view(
        values({row.b[row.b.size() - 1], row.b[row.b.size() - 2]}, gen, integers));
  } else if (row.layout == Layout::b_expanded_batch) {
    const Tensor matrix = values({row.b[1], row.b[2]}, gen, integers);
    o.b = Tensor::view_of(matrix, row.b, {0, row.b[2], 1}, 0);
  } else {
    o.b = values(row.b, gen, integers);
  }
  if (row.bias) o.bias = values({row.b.back()}, gen, integers);
  return o;
}

Tensor abs_copy(const Tensor& t) {
  if (!t.defined()) return t;
  std::vector<float> v = t.to_vector();
  for (float& x : v) x = std::fabs(x);
  return Tensor::from_data(v, t.shape());
}

}  // namespace

TEST_CASE("matmul precision: the setting, its guard and its names") {
  CHECK(matmul_precision() == MatmulPrecision::fp32);
  {
    const MatmulPrecisionGuard bf16(MatmulPrecision::bf16);
    CHECK(matmul_precision() == MatmulPrecision::bf16);
  }
  CHECK(matmul_precision() == MatmulPrecision::fp32);
  CHECK(parse_matmul_precision("bf16") == MatmulPrecision::bf16);
  CHECK(std::string(to_string(parse_matmul_precision("fp32"))) == "fp32");
  CHECK_THROWS_WITH_AS(parse_matmul_precision("fp16"), doctest::Contains("\"fp16\""), Error);
}

TEST_CASE("bf16 matmul: exact on bf16 values, within bf16 rounding on any, for every layout") {
  if (!cpu_runs_bf16_matmul()) return;
  Generator gen(3);
  for (const Row& row : kRows) {
    CAPTURE(row.name);
    // Small integers survive the rounding and their sums are exact in fp32: any layout mistake
    // (a wrong stride, a missed transpose) shows as a difference.
    const Operands exact = make_operands(row, gen, /*integers=*/true);
    const Tensor expected = kernels::matmul_forward_naive(exact.a, exact.b, exact.bias);
    Tensor got;
    {
      const MatmulPrecisionGuard bf16(MatmulPrecision::bf16);
      got = kernels::matmul_forward(exact.a, exact.b, exact.bias);
    }
    REQUIRE(got.shape() == expected.shape());
    CHECK(got.to_vector() == expected.to_vector());

    // Each operand rounded to bf16 is off by at most 2^-9 relatively, so each product by about
    // 2^-8: the error of an entry is bounded by 2^-7 times its sum of |a||b| (with room to spare).
    const Operands o = make_operands(row, gen, /*integers=*/false);
    const std::vector<float> fp32 = kernels::matmul_forward(o.a, o.b, o.bias).to_vector();
    const std::vector<float> bound =
        kernels::matmul_forward_naive(abs_copy(o.a), abs_copy(o.b), abs_copy(o.bias)).to_vector();
    std::vector<float> bf16;
    {
      const MatmulPrecisionGuard guard(MatmulPrecision::bf16);
      bf16 = kernels::matmul_forward(o.a, o.b, o.bias).to_vector();
    }
    bool differs = false;
    for (size_t i = 0; i < fp32.size(); ++i) {
      CAPTURE(i);
      CHECK(std::fabs(bf16[i] - fp32[i]) <= 0x1p-7f * bound[i] + 1e-5f);
      differs = differs || bf16[i] != fp32[i];
    }
    CHECK(differs);  // the bf16 path really ran: random fp32 values lose bits in it
  }
}

TEST_CASE("bf16 rows_product (a weight's gradient): exact on integers, dense or not") {
  if (!cpu_runs_bf16_matmul()) return;
  Generator gen(22);
  // (rows, m, n): whole tiles, and every edge of the kernel's 8-row tiles, 32-column panels and
  // row pairs (test_rows_product covers the kernel alone).
  const Shape shapes[] = {{16, 16, 64}, {33, 41, 70}, {40, 24, 100}};
  for (const Shape& s : shapes) {
    CAPTURE(to_string(s));
    const int64_t rows = s[0], m = s[1], n = s[2];
    // Small integers: every path's sums are exact, so all must agree bit for bit.
    const Tensor a = values({rows, m}, gen, /*integers=*/true);
    const Tensor wide = values({rows, n + 3}, gen, /*integers=*/true);
    // b as a window of wider rows: not dense, so oneDNN takes it, in bf16 as well.
    const Tensor window = Tensor::view_of(wide, {rows, n}, wide.strides(), 1);
    const Tensor b = kernels::contiguous_copy(window);
    const std::vector<float> want =
        kernels::matmul_forward_naive(kernels::matrix_transpose_view(a), b).to_vector();
    for (const MatmulPrecision precision : {MatmulPrecision::fp32, MatmulPrecision::bf16}) {
      CAPTURE(to_string(precision));
      const MatmulPrecisionGuard guard(precision);
      const Tensor dense = kernels::rows_product(a, b);
      CHECK(dense.shape() == Shape{m, n});
      CHECK(dense.to_vector() == want);
      CHECK(kernels::rows_product(a, window).to_vector() == want);
    }
  }
}

TEST_CASE("bf16 linear: forward and both gradients stay within bf16 rounding of fp32") {
  if (!cpu_runs_bf16_matmul()) return;
  Generator gen(8);
  const Tensor x = Tensor::randn({2, 6, 24}, gen);
  const Tensor w = Tensor::randn({10, 24}, gen, 0.0f, 0.2f);
  const Tensor b = Tensor::randn({10}, gen);
  const Tensor gy = Tensor::randn({2, 6, 10}, gen);
  struct Result {
    std::vector<float> y, gx, gw;
  };
  const auto run = [&](MatmulPrecision precision) {
    const MatmulPrecisionGuard guard(precision);
    Tensor xr = Tensor::from_data(x.to_vector(), x.shape()).requires_grad_();
    Tensor wr = Tensor::from_data(w.to_vector(), w.shape()).requires_grad_();
    const Tensor y = linear(xr, wr, b);
    y.backward(gy);
    return Result{y.to_vector(), xr.grad().to_vector(), wr.grad().to_vector()};
  };
  const Result fp32 = run(MatmulPrecision::fp32);
  const Result bf16 = run(MatmulPrecision::bf16);
  // Relative to the largest entry: each sum has at most 24 (or 12) terms of bf16 rounding.
  const auto close = [](const std::vector<float>& got, const std::vector<float>& want) {
    float largest = 0, worst = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      largest = std::max(largest, std::fabs(want[i]));
      worst = std::max(worst, std::fabs(got[i] - want[i]));
    }
    CAPTURE(worst);
    CAPTURE(largest);
    CHECK(worst > 0.0f);  // bf16 did round something
    CHECK(worst <= 1e-2f * largest);
  };
  close(bf16.y, fp32.y);
  close(bf16.gx, fp32.gx);
  close(bf16.gw, fp32.gw);
}

TEST_CASE("bf16 kept copies: converted once per version, shared by W and its transpose") {
  if (!cpu_runs_bf16_matmul()) return;
  const MatmulPrecisionGuard bf16(MatmulPrecision::bf16);
  Generator gen(5);
  // Integer values: every product below is exact, so a stale copy shows as a wrong entry.
  const auto integers = [&](const Shape& shape) { return small_integers(shape, gen); };
  Tensor w = integers({6, 20});
  const Tensor x = integers({5, 20});
  const Tensor gy = integers({5, 6});
  const Tensor w_t = kernels::matrix_transpose_view(w);
  const auto kept_product = [](const Tensor& a, const Tensor& b) {
    return kernels::matmul_forward(a, b, Tensor(), {.b_bf16 = true}).to_vector();
  };

  const int64_t before = kernels::matmul_bf16_conversions();
  CHECK(kept_product(x, w_t) == kernels::matmul_forward_naive(x, w_t).to_vector());
  CHECK(kernels::matmul_bf16_conversions() - before == 2);  // x, and w once
  // The same weight again, and read the other way (a linear layer's dX = dY W): x's and gy's
  // copies are new, w's is reused.
  CHECK(kept_product(x, w_t) == kernels::matmul_forward_naive(x, w_t).to_vector());
  CHECK(kept_product(gy, w) == kernels::matmul_forward_naive(gy, w).to_vector());
  CHECK(kernels::matmul_bf16_conversions() - before == 4);

  // An in-place update (what the optimizer does) bumps the version: the copy is redone.
  w.copy_(integers({6, 20}));
  CHECK(kept_product(x, w_t) == kernels::matmul_forward_naive(x, w_t).to_vector());
  CHECK(kernels::matmul_bf16_conversions() - before == 6);
  // Without the mark nothing is kept: each product converts both operands.
  kernels::matmul_forward(x, w_t);
  CHECK(kernels::matmul_bf16_conversions() - before == 8);
}

TEST_CASE("bf16 linear: a training step packs the weight per layout, converts x and gy once") {
  if (!cpu_runs_bf16_matmul()) return;
  const MatmulPrecisionGuard bf16(MatmulPrecision::bf16);
  Generator gen(9);
  Tensor x = Tensor::randn({4, 8, 16}, gen).requires_grad_();
  Tensor w = Tensor::randn({12, 16}, gen).requires_grad_();
  const int64_t before = kernels::matmul_bf16_conversions();
  const int64_t packs_before = kernels::matmul_weight_packs();
  const int64_t pairs_before = kernels::row_pair_packs();
  // dW = gy^T x runs on our row-pair kernel, or with AMX on oneDNN from kept bf16 copies
  // (ctest runs this file both ways: test_bf16_without_amx).
  const int64_t pairs = kernels::rows_product_pairs_rows() ? 1 : 0;
  const Tensor y = linear(x, w, Tensor());
  // Forward: x converts, w^T packs (into bf16), and what dW reads of x is kept: its row pairs,
  // or its bf16 copy, taken from the product's (no second conversion).
  CHECK(kernels::matmul_bf16_conversions() - before == 1);
  CHECK(kernels::row_pair_packs() - pairs_before == pairs);
  y.backward(Tensor::randn({4, 8, 12}, gen));
  // Backward: gy converts, dX = gy w packs w, and dW = gy^T x reads gy's copy (pairing it) and
  // x's kept pairs or copy.
  CHECK(kernels::matmul_bf16_conversions() - before == 2);
  CHECK(kernels::matmul_weight_packs() - packs_before == 2);
  CHECK(kernels::row_pair_packs() - pairs_before == 2 * pairs);
  // New x, same w: only x converts, and is kept for a backward that may come.
  linear(Tensor::randn({4, 8, 16}, gen), w, Tensor());
  CHECK(kernels::matmul_bf16_conversions() - before == 3);
  CHECK(kernels::matmul_weight_packs() - packs_before == 2);
  CHECK(kernels::row_pair_packs() - pairs_before == 3 * pairs);
  // Without a gradient to record, nothing kept.
  {
    const NoGrad no_grad;
    linear(x, w, Tensor());
  }
  CHECK(kernels::matmul_bf16_conversions() - before == 4);
  CHECK(kernels::row_pair_packs() - pairs_before == 3 * pairs);
}

TEST_CASE("bf16 linear: the bias gradient is gy's column sums, taken as gy converts") {
  if (!cpu_runs_bf16_matmul()) return;
  const MatmulPrecisionGuard bf16(MatmulPrecision::bf16);
  Generator gen(10);
  // 1024 x 40 gradient floats: enough for the thread team, and 40 columns end past a whole Vec.
  Tensor x = Tensor::randn({8, 128, 16}, gen).requires_grad_();
  Tensor w = Tensor::randn({40, 16}, gen).requires_grad_();
  Tensor b = Tensor::randn({40}, gen).requires_grad_();
  const Tensor gy = small_integers({8, 128, 40}, gen);  // sums exact in any order
  const Tensor y = linear(x, w, b);
  const int64_t before = kernels::matmul_bf16_conversions();
  y.backward(gy);
  CHECK(kernels::matmul_bf16_conversions() - before == 1);  // gy once, for dX, dW and the sums
  CHECK(b.grad().to_vector() == kernels::sum_forward_naive(gy, {0, 1}, false).to_vector());
  // Called again while the kept copy is current: the sums alone. The product then finds the
  // copy the first call made.
  const Tensor g = small_integers({1024, 40}, gen);
  const std::vector<float> sums = kernels::sum_forward_naive(g, {0}, false).to_vector();
  const int64_t after = kernels::matmul_bf16_conversions();
  CHECK(kernels::column_sums_keeping_bf16(g).to_vector() == sums);
  CHECK(kernels::column_sums_keeping_bf16(g).to_vector() == sums);
  CHECK(kernels::matmul_bf16_conversions() - after == 1);
  kernels::matmul_forward(g, w, Tensor(), {.a_bf16 = true});
  CHECK(kernels::matmul_bf16_conversions() - after == 2);  // w alone (not kept)
}

namespace {
std::filesystem::path write_corpus(const ScratchDir& dir) {
  return write_word_corpus(dir / "corpus.txt", 11,
                           {"alpha ", "beta ", "gamma ", "delta\n", "eps ", "zeta, "}, 3000);
}

nn::TrainOptions tiny_options(const std::filesystem::path& corpus, const char* precision) {
  nn::TrainOptions o;
  o.model.d_model = 32;
  o.model.layers = 2;
  o.model.heads = 2;
  o.model.seq_len = 32;
  o.batch = 8;
  o.steps = 40;
  o.warmup = 4;
  o.eval_interval = 40;
  o.eval_batch = 8;
  o.seed = 2;
  o.data = corpus.string();
  o.precision = precision;
  return o;
}
}  // namespace

TEST_CASE("precision in the lm options: validated, saved, absent in old checkpoints = fp32") {
  nn::TrainOptions o;
  CHECK(o.precision == "fp32");
  o.precision = "bf16";
  nlohmann::json j = o;
  CHECK(j.at("precision") == "bf16");
  CHECK(j.get<nn::TrainOptions>().precision == "bf16");
  j.erase("precision");
  CHECK(j.get<nn::TrainOptions>().precision == "fp32");
  o.precision = "int8";
  CHECK_THROWS_WITH_AS(o.validate(), doctest::Contains("`precision`"), Error);
}

TEST_CASE("a tiny GPT trained in bf16: finite, falling loss within 2% of fp32's") {
  if (!cpu_runs_bf16_matmul()) return;
  ScratchDir dir("bf16-train");
  const std::filesystem::path corpus = write_corpus(dir);
  struct Run {
    std::vector<float> losses;
    float val_loss = 0;
  };
  const auto train = [&](const char* precision) {
    nn::LMTrainer trainer(tiny_options(corpus, precision));
    Run r;
    for (int64_t i = 0; i < trainer.total_steps(); ++i) r.losses.push_back(trainer.train_step());
    r.val_loss = static_cast<float>(trainer.evaluate().val_loss);
    return r;
  };
  const Run fp32 = train("fp32");
  const Run bf16 = train("bf16");
  CHECK(matmul_precision() == MatmulPrecision::fp32);  // the trainer's guard restored it
  for (float loss : bf16.losses) CHECK(std::isfinite(loss));
  CHECK(bf16.losses.back() < 0.8f * bf16.losses.front());
  CHECK(bf16.losses != fp32.losses);  // the runs really differ in precision
  CAPTURE(fp32.val_loss);
  CAPTURE(bf16.val_loss);
  CHECK(std::fabs(bf16.val_loss - fp32.val_loss) <= 0.02f * fp32.val_loss);
}

TEST_CASE("vit and mt trained in bf16: the guard is set, the losses stay within 2% of fp32's") {
  if (!cpu_runs_bf16_matmul()) return;
  ScratchDir dir("bf16-tasks");
  write_tiny_image_set(dir / "images");
  const nlohmann::json vit = {
      {"model", {{"patch_size", 4}, {"d_model", 16}, {"layers", 2}, {"heads", 2}}},
      {"batch", 16},
      {"val_images", 40},
      {"data", (dir / "images").string()}};
  const nlohmann::json mt = {
      {"model", {{"d_model", 16}, {"heads", 2}, {"encoder_layers", 1}, {"decoder_layers", 1}}},
      {"batch", 8},
      {"eval_pairs", 8},
      {"max_chars", 24},
      {"data", write_tiny_phrase_file(dir / "phrases.txt").string()}};
  for (const auto& [task, base] : {std::pair{"vit", vit}, std::pair{"mt", mt}}) {
    CAPTURE(task);
    const auto losses = [&](const char* precision) {
      nlohmann::json o = base;
      o["steps"] = 12;
      o["warmup"] = 2;
      o["precision"] = precision;
      std::unique_ptr<nn::Trainer> trainer = nn::make_trainer(task, o);
      std::vector<float> out;
      for (int i = 0; i < 12; ++i) out.push_back(trainer->train_step());
      out.push_back(static_cast<float>(trainer->evaluate().val_loss));
      CHECK(trainer->options_json().at("precision") == precision);
      return out;
    };
    const std::vector<float> fp32 = losses("fp32"), bf16 = losses("bf16");
    CHECK(matmul_precision() == MatmulPrecision::fp32);  // the trainers' guards restored it
    CHECK(bf16 != fp32);                                 // the runs really differ in precision
    for (size_t i = 0; i < fp32.size(); ++i) {
      CAPTURE(i);
      CHECK(std::isfinite(bf16[i]));
      CHECK(std::fabs(bf16[i] - fp32[i]) <= 0.02f * fp32[i]);
    }
  }
}
