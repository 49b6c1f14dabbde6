// The three products of causal attention, with the work above the diagonal skipped (about half
// of the full products'). One matrix (batch x head) per task, in register tiles of 8 rows x 32
// columns (two Vecs; 16 for a last odd Vec): the tiles stop at the diagonal, which a oneDNN
// matmul per block of rows could not.
// With bf16 precision (engine/precision.hpp) the operands are rounded to bf16 and multiplied in
// pairs (bf16_pairs.hpp), accumulating in fp32, as the other matrix products are.
// Raw float math, no autograd; each has a `_naive` triple loop beside it for the tests.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/precision.hpp"
#include "engine/tensor.hpp"

namespace mmx::kernels {

// The precision the attention's products run in when `requested` is asked for: bf16 only where
// the CPU's AVX512-BF16 dot products outrun its fp32 FMAs. On the cores that have AMX (Sapphire
// Rapids and later: dnnl_matmul_has_amx) vdpbf16ps ran at half the fp32 FMA rate (2 threads,
// register-only loops: 221-238 against 469-479 GFLOP/s), and a small bf16 step's attention took
// 48.7 ms against fp32's 39.1; there they stay fp32 (oneDNN's products use AMX instead).
MatmulPrecision causal_products_precision(MatmulPrecision requested);

// Each result is multiplied by `scale` as it is stored (attention's 1/sqrt(d) costs no pass).
// The naive loops with bf16 round their operands and sum in double.

// scale tril(a b^T): a, b [..., T, d] (same batch axes) -> [..., T, T], zero above the
// diagonal (the causal attention scores q k^T / sqrt(d), and the gradient of p from p v).
Tensor causal_scores_forward(const Tensor& a, const Tensor& b, float scale = 1.0f,
                             MatmulPrecision precision = MatmulPrecision::fp32);
Tensor causal_scores_forward_naive(const Tensor& a, const Tensor& b, float scale = 1.0f,
                                   MatmulPrecision precision = MatmulPrecision::fp32);

// scale tril(p) b: p [..., T, T] read on and below the diagonal only, b [..., T, d] ->
// [..., T, d] (the attention output p v, and the gradient of q from the scores).
Tensor causal_weighted_sum_forward(const Tensor& p, const Tensor& b, float scale = 1.0f,
                                   MatmulPrecision precision = MatmulPrecision::fp32);
Tensor causal_weighted_sum_forward_naive(const Tensor& p, const Tensor& b, float scale = 1.0f,
                                         MatmulPrecision precision = MatmulPrecision::fp32);

// scale tril(p)^T b, the same shapes (the gradients of k and of v).
Tensor causal_transposed_sum_forward(const Tensor& p, const Tensor& b, float scale = 1.0f,
                                     MatmulPrecision precision = MatmulPrecision::fp32);
Tensor causal_transposed_sum_forward_naive(const Tensor& p, const Tensor& b, float scale = 1.0f,
                                           MatmulPrecision precision = MatmulPrecision::fp32);

// ---- one matrix at a time: the pieces the whole-tensor kernels above run per (batch, head)
// matrix, and that the fused attention kernels (causal_attention.hpp) chain per matrix ----

// One [rows, cols] matrix read in place: its first element and its row stride. The columns
// must be adjacent (column stride 1).
struct Matrix {
  const float* data;
  int64_t row_stride;
  float at(int64_t r, int64_t c) const { return data[r * row_stride + c]; }
};

// The matrices of t [..., rows, cols], one per batch index (any batch strides). A tensor whose
// columns are not adjacent is first copied (then `keep` holds the copy).
std::vector<Matrix> matrices(const Tensor& t, Tensor& keep);

// One [rows, cols] matrix written in place.
struct OutMatrix {
  float* data;
  int64_t row_stride;
};
// The matrices of t to write into: t's columns must be adjacent and its matrices must not
// overlap (a dense tensor, or e.g. the heads [B, H, T, dh] of a [B, T, H dh] buffer).
std::vector<OutMatrix> output_matrices(Tensor& t);

// What causal_scores_matrix writes above the diagonal of s, past the 16-float chunk that holds
// each row's diagonal (within that chunk the columns after the diagonal are always zero).
enum class AboveDiagonal {
  Zeros,          // zeros: a full [T, T] result that anything may read
  StreamedZeros,  // zeros written past the caches: a large result, going to memory
  Unset,          // nothing: the fused attention reads each row only up to its diagonal
};

// A thread's packing buffers, reused from matrix to matrix (they only grow).
struct ProductScratch {
  std::vector<float> floats;             // fp32: the packed operand
  std::vector<uint16_t> a_bf16, b_bf16;  // bf16: both operands, laid out in pairs
  std::vector<uint16_t> rows_bf16;       // bf16: an operand's rows before their transpose
};

// s [T, T] dense = scale tril(a b^T) for a, b [T, d], above the diagonal as `above` says.
void causal_scores_matrix(const Matrix& a, const Matrix& b, int64_t T, int64_t d, float scale,
                          AboveDiagonal above, MatmulPrecision precision, ProductScratch& scratch,
                          float* s);
// y [T, d] = scale tril(p) b, or (transposed) scale tril(p)^T b, for p [T, T], b [T, d].
void causal_weighted_sum_matrix(const Matrix& p, const Matrix& b, int64_t T, int64_t d, float scale,
                                bool transposed, MatmulPrecision precision, ProductScratch& scratch,
                                const OutMatrix& y);

// A batch of causal products below this many multiply-adds runs on the calling thread: waking
// the OpenMP team costs more.
constexpr int64_t kCausalParallelMinWork = int64_t{1} << 18;

}  // namespace mmx::kernels
