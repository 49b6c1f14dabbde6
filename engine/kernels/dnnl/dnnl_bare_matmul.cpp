// The bare oneDNN matmul of bare_matmul.hpp: what a hand-written oneDNN program does, the
// primitive created once and executed on buffers it owns.
#include <vector>

#include "engine/kernels/bare_matmul.hpp"
#include "engine/kernels/dnnl/dnnl_context.hpp"

namespace mmx::kernels {

struct BareMatmul::Impl {
  std::vector<float> a, b, c;
  dnnl::matmul primitive;
  std::unordered_map<int, dnnl::memory> args;
};

BareMatmul::BareMatmul(int64_t m, int64_t k, int64_t n) : impl_(std::make_unique<Impl>()) {
  using dnnl::memory;
  Impl& s = *impl_;
  s.a.resize(static_cast<size_t>(m * k));
  s.b.resize(static_cast<size_t>(k * n));
  s.c.resize(static_cast<size_t>(m * n));
  for (size_t i = 0; i < s.a.size(); ++i) s.a[i] = static_cast<float>(i % 13) * 0.1f - 0.6f;
  for (size_t i = 0; i < s.b.size(); ++i) s.b[i] = static_cast<float>(i % 7) * 0.2f - 0.6f;
  const memory::desc a_md({m, k}, memory::data_type::f32, memory::format_tag::ab);
  const memory::desc b_md({k, n}, memory::data_type::f32, memory::format_tag::ab);
  const memory::desc c_md({m, n}, memory::data_type::f32, memory::format_tag::ab);
  dnnl::engine& engine = dnnl_backend::cpu_engine();
  s.primitive =
      dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md, b_md, c_md), engine));
  s.args = {{DNNL_ARG_SRC, memory(a_md, engine, s.a.data())},
            {DNNL_ARG_WEIGHTS, memory(b_md, engine, s.b.data())},
            {DNNL_ARG_DST, memory(c_md, engine, s.c.data())}};
}

BareMatmul::~BareMatmul() = default;

void BareMatmul::run() {
  impl_->primitive.execute(dnnl_backend::cpu_stream(), impl_->args);
  dnnl_backend::cpu_stream().wait();
}

}  // namespace mmx::kernels
