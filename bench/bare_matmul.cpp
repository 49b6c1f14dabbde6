// What a hand-written oneDNN program does: one engine and stream, the primitive created once and
// executed on buffers it owns. oneDNN directly, not the engine's backend (which is private to the
// kernels): the yardstick must not share the code it measures.
#include "bench/bare_matmul.hpp"

#include <dnnl.hpp>
#include <unordered_map>
#include <vector>

namespace mmx::bench {

struct BareMatmul::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
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
  s.primitive =
      dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md, b_md, c_md), s.engine));
  s.args = {{DNNL_ARG_SRC, memory(a_md, s.engine, s.a.data())},
            {DNNL_ARG_WEIGHTS, memory(b_md, s.engine, s.b.data())},
            {DNNL_ARG_DST, memory(c_md, s.engine, s.c.data())}};
}

BareMatmul::~BareMatmul() = default;

void BareMatmul::run() {
  impl_->primitive.execute(impl_->stream, impl_->args);
  impl_->stream.wait();
}

}  // namespace mmx::bench
