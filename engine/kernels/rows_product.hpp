// The product a^T b of two matrices with the same rows, summed down the rows: out[i][j] = sum over
// r of a[r][i] b[r][j]. It is the gradient of a weight (dW = dY^T X, summed over the tokens), the
// one product of a training step whose long axis is the rows of both operands.
//
// In bf16 (engine/precision.hpp) on AVX512-BF16, oneDNN ran these at 500-520 GFLOP/s in a small
// step, against 780-850 for the step's other products: its kernel wants the summed axis adjacent
// in memory, so it transposes a on every call. AVX512-BF16 multiplies pairs along that axis
// (bf16_pairs.hpp), and two adjacent rows interleave into such pairs without a transpose. So the
// bf16 kernel here reads both operands as row pairs: for each pair of rows (2j, 2j+1), the pairs
// (x[2j][c], x[2j+1][c]), in panels of 32 columns, zeros past the last row and column.
//
// Where oneDNN has AMX (dnnl_matmul_has_amx), its tile units outrun any AVX512 loop even with
// the transpose: a small bf16 step's linear backward took 48 ms that way against 122 ms on this
// kernel. There rows_product leaves bf16 to oneDNN too (DNNL_MAX_CPU_ISA=AVX512_CORE_BF16 brings
// this kernel back).
//
// Raw float math, no autograd, apart from rows_product and keep_for_rows_product, which take
// Tensors.
// `_naive` beside the kernel for the tests.
#pragma once

#include <cstdint>

#include "engine/kernels/matmul.hpp"
#include "engine/tensor.hpp"

namespace mmx::kernels {

// a^T b for a [rows, m] and b [rows, n], out [m, n] contiguous. In bf16 with both operands dense
// (row-major) and no AMX, our kernel below; otherwise oneDNN on a's transposed view. `keep` as
// for matmul_forward: a_bf16 keeps a's bf16 copy, b_bf16 keeps b's row pairs (or, for oneDNN,
// its bf16 copy) until b's storage version changes.
Tensor rows_product(const Tensor& a, const Tensor& b, KeepOperands keep = {});
// Whether rows_product's bf16 products run on the row-pair kernel below (no AMX).
bool rows_product_pairs_rows();
// Makes the copy rows_product keeps for b (dense [rows, n]) in bf16 now: a linear layer does it
// for its input right after the forward product, from the bf16 copy the product left in its
// scratch (converted again only if it is gone), for the weight's gradient.
void keep_for_rows_product(const Tensor& b);
// How many operands rows_product has put in row pairs on this thread (kept ones reused count
// none): tests use it to show that kept row pairs are reused.
int64_t row_pair_packs();

// ---- the bf16 kernel on raw memory ----

// The uint32 words that x [rows, cols] takes as row pairs.
int64_t row_pairs_size(int64_t rows, int64_t cols);
// x [rows, cols] (row-major, bf16 bits or floats rounded to bf16 here) into row pairs at `to`.
void pack_row_pairs(const uint16_t* x, int64_t rows, int64_t cols, uint32_t* to);
void pack_row_pairs(const float* x, int64_t rows, int64_t cols, uint32_t* to);
// out [m, n] (row-major, fully written) = a^T b from a's and b's row pairs, the products
// accumulated in fp32.
void rows_product_bf16(const uint32_t* a_pairs, const uint32_t* b_pairs, int64_t rows, int64_t m,
                       int64_t n, float* out);
// The same sums from a and b themselves (bf16 bits, row-major), each summed in double.
void rows_product_bf16_naive(const uint16_t* a, const uint16_t* b, int64_t rows, int64_t m,
                             int64_t n, float* out);

}  // namespace mmx::kernels
