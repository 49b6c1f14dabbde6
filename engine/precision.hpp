/// \file
/// The precision of matrix products: fp32, or bf16 operands with fp32 accumulation and output.
/// Weights, gradients, optimizer state and the normalizers stay fp32 either way.
#pragma once

#include <string>

namespace mmx {

/// The operand precision of matrix products.
enum class MatmulPrecision { fp32, bf16 };

/// Per thread, like the tape and the primitive cache: ops run on the calling thread.
/// bf16 applies to kernels::matmul_forward (the matmul and linear ops, forward and backward) and,
/// on CPUs without AMX, to the causal attention's products (the causal_scores and
/// causal_weighted_sum ops and the fused causal_self_attention; with AMX they stay fp32, where
/// they run faster: kernels::causal_products_precision).
void set_matmul_precision(MatmulPrecision precision);
/// The calling thread's current precision (fp32 until set).
MatmulPrecision matmul_precision();

/// "fp32" | "bf16"; anything else is an mmx::Error naming the value.
MatmulPrecision parse_matmul_precision(const std::string& name);
/// "fp32" or "bf16".
const char* to_string(MatmulPrecision precision);

/// Sets the precision for a scope and restores the previous one on exit.
class MatmulPrecisionGuard {
 public:
  /// Switches this thread to `precision` until the guard is destroyed.
  explicit MatmulPrecisionGuard(MatmulPrecision precision) : previous_(matmul_precision()) {
    set_matmul_precision(precision);
  }
  ~MatmulPrecisionGuard() { set_matmul_precision(previous_); }
  MatmulPrecisionGuard(const MatmulPrecisionGuard&) = delete;
  MatmulPrecisionGuard& operator=(const MatmulPrecisionGuard&) = delete;

 private:
  MatmulPrecision previous_;
};

}  // namespace mmx
