// A bare oneDNN matmul, [m, k] x [k, n], with no engine around it: the yardstick that
// `mmx_bench_kernels matmul` holds the engine's matmul against. Declared without oneDNN.
#pragma once

#include <cstdint>
#include <memory>

namespace mmx::bench {

class BareMatmul {
 public:
  // Creates the primitive and its buffers (filled with a fixed pattern) once.
  BareMatmul(int64_t m, int64_t k, int64_t n);
  ~BareMatmul();
  BareMatmul(const BareMatmul&) = delete;
  BareMatmul& operator=(const BareMatmul&) = delete;

  void run();  // executes the primitive once and waits for it

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mmx::bench
