#include "engine/precision.hpp"

#include "engine/error.hpp"

namespace mmx {

namespace {
thread_local MatmulPrecision current_precision = MatmulPrecision::fp32;
}

void set_matmul_precision(MatmulPrecision precision) {
  current_precision = precision;
}

MatmulPrecision matmul_precision() {
  return current_precision;
}

MatmulPrecision parse_matmul_precision(const std::string& name) {
  if (name == "fp32") return MatmulPrecision::fp32;
  if (name == "bf16") return MatmulPrecision::bf16;
  throw Error(cat("matmul precision: expected \"fp32\" or \"bf16\", got \"", name, "\""));
}

const char* to_string(MatmulPrecision precision) {
  return precision == MatmulPrecision::bf16 ? "bf16" : "fp32";
}

}  // namespace mmx
