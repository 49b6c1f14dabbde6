#include "engine/kernels/rows_product.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "engine/error.hpp"
#include "engine/kernels/bf16_pairs.hpp"
#include "engine/kernels/dnnl/dnnl_kernels.hpp"
#include "engine/kernels/elementwise.hpp"
#include "engine/kernels/kept_copies.hpp"
#include "engine/kernels/vec16.hpp"
#include "engine/parallel_region.hpp"
#include "engine/precision.hpp"

namespace mmx::kernels {

namespace {

// A panel's row pair is two whole Vecs of pairs.
constexpr int64_t kPanelColumns = 2 * kVecLanes;
// A tile is 8 output rows x one panel of output columns: its 16 Vec sums, the two Vecs of b's
// pairs and a's broadcast pair fit in the 32 vector registers.
constexpr int64_t kTileRows = 8;
// Below this many multiply-adds (or values packed) a team costs more than it saves.
constexpr int64_t kParallelMinWork = int64_t{1} << 18;

thread_local int64_t packs = 0;

int64_t panels_of(int64_t columns) {
  return (columns + kPanelColumns - 1) / kPanelColumns;
}

// One row pair of a whole panel: the 32 columns of `first` and `second` (two rows) interleaved.
void whole_pairs(const uint16_t* first, const uint16_t* second, uint32_t* to) {
  using Bf16x32 = uint16_t __attribute__((vector_size(64)));
  Bf16x32 f, s;
  std::memcpy(&f, first, sizeof f);
  std::memcpy(&s, second, sizeof s);
  const Bf16x32 low =
      __builtin_shufflevector(f, s, 0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39, 8, 40,
                              9, 41, 10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47);
  const Bf16x32 high =
      __builtin_shufflevector(f, s, 16, 48, 17, 49, 18, 50, 19, 51, 20, 52, 21, 53, 22, 54, 23, 55,
                              24, 56, 25, 57, 26, 58, 27, 59, 28, 60, 29, 61, 30, 62, 31, 63);
  std::memcpy(to, &low, sizeof low);
  std::memcpy(to + kVecLanes, &high, sizeof high);
}
void whole_pairs(const float* first, const float* second, uint32_t* to) {
  for (int64_t v = 0; v < kPanelColumns; v += kVecLanes)
    store_pairs(reinterpret_cast<uint16_t*>(to + v), to_bf16x16(load(first + v)),
                to_bf16x16(load(second + v)));
}

uint32_t bits_of(uint16_t x) {
  return x;
}
uint32_t bits_of(float x) {
  return to_bf16(x);
}

// Panel `panel` of x [rows, columns] into `to`.
template <typename T>
void pack_panel(const T* x, int64_t rows, int64_t columns, int64_t panel, uint32_t* to) {
  const int64_t c0 = panel * kPanelColumns;
  const int64_t width = std::min(kPanelColumns, columns - c0);
  for (int64_t j = 0; j < (rows + 1) / 2; ++j, to += kPanelColumns) {
    const T* first = x + 2 * j * columns + c0;
    const T* second = 2 * j + 1 < rows ? first + columns : nullptr;
    if (width == kPanelColumns && second) {
      whole_pairs(first, second, to);
      continue;
    }
    for (int64_t c = 0; c < kPanelColumns; ++c) {
      const uint32_t low = c < width ? bits_of(first[c]) : 0;
      const uint32_t high = c < width && second ? bits_of(second[c]) : 0;
      to[c] = low | high << 16;
    }
  }
}

template <typename T>
void pack_all(const T* x, int64_t rows, int64_t columns, uint32_t* to) {
  const int64_t panel_size = (rows + 1) / 2 * kPanelColumns;
  parallel_region(rows * columns >= kParallelMinWork, [&] {
#pragma omp for schedule(static)
    for (int64_t p = 0; p < panels_of(columns); ++p)
      pack_panel(x, rows, columns, p, to + p * panel_size);
  });
}

// The 8 x 32 sums of a tile over all `pairs` row pairs: a_pairs at the tile's first row within
// its panel, b_pairs at the start of its panel, both stepping kPanelColumns words per row pair.
void tile_sums(const uint32_t* a_pairs, const uint32_t* b_pairs, int64_t pairs,
               Vec (&acc)[kTileRows][2]) {
  for (auto& row : acc) row[0] = row[1] = Vec{};
  for (int64_t j = 0; j < pairs; ++j, a_pairs += kPanelColumns, b_pairs += kPanelColumns) {
    const Pairs b0 = load_pairs(reinterpret_cast<const uint16_t*>(b_pairs));
    const Pairs b1 = load_pairs(reinterpret_cast<const uint16_t*>(b_pairs + kVecLanes));
    for (int64_t r = 0; r < kTileRows; ++r) {
      acc[r][0] = dot_pairs(acc[r][0], a_pairs[r], b0);
      acc[r][1] = dot_pairs(acc[r][1], a_pairs[r], b1);
    }
  }
}

// The tile's rows and columns that fall inside out [m, n], from (i0, j0).
void store_tile(const Vec (&acc)[kTileRows][2], int64_t i0, int64_t j0, int64_t m, int64_t n,
                float* out) {
  const int64_t rows = std::min(kTileRows, m - i0);
  const int64_t columns = std::min(kPanelColumns, n - j0);
  for (int64_t r = 0; r < rows; ++r) {
    float* to = out + (i0 + r) * n + j0;
    if (columns == kPanelColumns) {
      store(to, acc[r][0]);
      store(to + kVecLanes, acc[r][1]);
    } else {
      float row[kPanelColumns];
      store(row, acc[r][0]);
      store(row + kVecLanes, acc[r][1]);
      std::memcpy(to, row, static_cast<size_t>(columns) * sizeof(float));
    }
  }
}

// This thread's scratch of `size` words, grown, never shrunk: a warm step allocates nothing.
uint32_t* scratch_pairs(int64_t size) {
  thread_local std::vector<uint32_t> scratch;
  if (scratch.size() < static_cast<size_t>(size)) scratch.resize(static_cast<size_t>(size));
  return scratch.data();
}

// b's row pairs, kept until b's storage version changes.
const uint32_t* kept_row_pairs(const Tensor& b) {
  thread_local KeptCopies<std::pair<int64_t, int64_t>, std::unique_ptr<uint32_t[]>> kept;
  const int64_t rows = b.size(0), columns = b.size(1);
  const auto make = [&] {
    return std::make_unique_for_overwrite<uint32_t[]>(
        static_cast<size_t>(row_pairs_size(rows, columns)));
  };
  // From b's bf16 copy in scratch slot 0, where the forward product that just read b left it, in
  // the caches: half the bytes of b's floats (packed from the floats, a small bf16 step's
  // forward took 5.5 ms longer).
  const auto fill = [&](std::unique_ptr<uint32_t[]>& pairs) {
    ++packs;
    pack_row_pairs(dnnl_bf16_bits(b, 0, /*keep=*/false), rows, columns, pairs.get());
  };
  return kept_copy(kept, b, std::pair{rows, columns}, make, fill).get();
}

bool dense_rows(const Tensor& t) {
  return t.dim() == 2 && t.strides()[1] == 1 && t.strides()[0] == t.size(1);
}

}  // namespace

int64_t row_pairs_size(int64_t rows, int64_t cols) {
  return panels_of(cols) * ((rows + 1) / 2) * kPanelColumns;
}

void pack_row_pairs(const uint16_t* x, int64_t rows, int64_t cols, uint32_t* to) {
  pack_all(x, rows, cols, to);
}

void pack_row_pairs(const float* x, int64_t rows, int64_t cols, uint32_t* to) {
  pack_all(x, rows, cols, to);
}

void rows_product_bf16(const uint32_t* a_pairs, const uint32_t* b_pairs, int64_t rows, int64_t m,
                       int64_t n, float* out) {
  const int64_t pairs = (rows + 1) / 2;
  const int64_t panel_size = pairs * kPanelColumns;
  const int64_t tile_rows = (m + kTileRows - 1) / kTileRows;
  parallel_region(rows * m * n >= kParallelMinWork, [&] {
    // Each thread takes the same rows of tiles in every panel of b (a static schedule over the
    // same count, no barrier between), so its panels of a stay in its caches, and the panel of b
    // that every tile reads is read from memory once.
    for (int64_t q = 0; q < panels_of(n); ++q) {
#pragma omp for schedule(static) nowait
      for (int64_t t = 0; t < tile_rows; ++t) {
        const int64_t i0 = t * kTileRows;
        Vec acc[kTileRows][2];
        tile_sums(a_pairs + (i0 / kPanelColumns) * panel_size + i0 % kPanelColumns,
                  b_pairs + q * panel_size, pairs, acc);
        store_tile(acc, i0, q * kPanelColumns, m, n, out);
      }
    }
#pragma omp barrier
  });
}

void rows_product_bf16_naive(const uint16_t* a, const uint16_t* b, int64_t rows, int64_t m,
                             int64_t n, float* out) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t r = 0; r < rows; ++r)
        sum += double{from_bf16(a[r * m + i])} * double{from_bf16(b[r * n + j])};
      out[i * n + j] = static_cast<float>(sum);
    }
}

Tensor rows_product(const Tensor& a, const Tensor& b, KeepOperands keep) {
  MMX_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(0) == b.size(0),
            "rows_product: need two matrices with the same rows, got ", to_string(a.shape()),
            " and ", to_string(b.shape()));
  const int64_t rows = a.size(0), m = a.size(1), n = b.size(1);
  if (matmul_precision() == MatmulPrecision::bf16 && rows_product_pairs_rows() && rows > 0 &&
      m > 0 && n > 0 && dense_rows(a) && dense_rows(b)) {
    // a (a gradient) from its bf16 copy, which the product before (dX = dY W) made; b from its
    // floats, or its kept pairs.
    uint32_t* a_pairs =
        scratch_pairs(row_pairs_size(rows, m) + (keep.b_bf16 ? 0 : row_pairs_size(rows, n)));
    ++packs;
    pack_row_pairs(dnnl_bf16_bits(a, 0, keep.a_bf16), rows, m, a_pairs);
    const uint32_t* b_pairs = keep.b_bf16 ? kept_row_pairs(b) : nullptr;
    if (!b_pairs) {
      uint32_t* scratch = a_pairs + row_pairs_size(rows, m);
      ++packs;
      pack_row_pairs(b.data(), rows, n, scratch);
      b_pairs = scratch;
    }
    Tensor out = Tensor::empty({m, n});
    rows_product_bf16(a_pairs, b_pairs, rows, m, n, out.data());
    return out;
  }
  // With m < n it is computed as (b^T a)^T, the same sums in the same order: oneDNN shares a
  // product between two threads better when its first dim is the longer one. At 2 threads and
  // 2048 rows a weight gradient [128, 512] took 0.81 ms that way against 0.99-1.03 ms, [256,
  // 1024] 3.19-3.45 against 3.70-3.76 (no difference at 1 thread; docs/performance.md).
  if (m >= n) return matmul_forward(matrix_transpose_view(a), b, Tensor(), keep);
  const KeepOperands swapped{.a_bf16 = keep.b_bf16, .b_bf16 = keep.a_bf16};
  return contiguous_copy(
      matrix_transpose_view(matmul_forward(matrix_transpose_view(b), a, Tensor(), swapped)));
}

bool rows_product_pairs_rows() {
  return !dnnl_matmul_has_amx();
}

void keep_for_rows_product(const Tensor& b) {
  if (matmul_precision() != MatmulPrecision::bf16 || !dense_rows(b) || b.numel() == 0) return;
  if (rows_product_pairs_rows()) {
    kept_row_pairs(b);
  } else {
    dnnl_bf16_bits(b, 0, /*keep=*/true);
  }
}

int64_t row_pair_packs() {
  return packs;
}

}  // namespace mmx::kernels
