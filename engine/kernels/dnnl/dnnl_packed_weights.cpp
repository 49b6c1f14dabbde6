#include "engine/kernels/dnnl/dnnl_packed_weights.hpp"

#include <cstdint>
#include <string>

#include "engine/kernels/dnnl/dnnl_context.hpp"
#include "engine/kernels/kept_copies.hpp"

namespace mmx::dnnl_backend {

namespace {

using dnnl::memory;

thread_local int64_t packs = 0;

// Which packed copy of a weight's storage: the layout it is read through and the one it is packed
// into.
struct PackLayouts {
  memory::desc from, to;
  bool operator==(const PackLayouts&) const = default;
};

// The descriptor's bytes, for a cache key (oneDNN zero-fills the unused fields).
void append_desc(std::string& key, const memory::desc& d) {
  key.append(reinterpret_cast<const char*>(&d.data), sizeof(d.data));
}

void pack(const Tensor& t, const memory::desc& from, const memory::desc& to, memory& packed) {
  ++packs;
  std::string key = "pack_weights;";
  append_desc(key, from);
  append_desc(key, to);
  dnnl::primitive& reorder =
      cached_reorder(key, from, to, "matmul: oneDNN cannot pack weights into its layout");
  memory source(from, cpu_engine(), const_cast<float*>(t.data()));
  reorder.execute(cpu_stream(), {{DNNL_ARG_FROM, source}, {DNNL_ARG_TO, packed}});
}

}  // namespace

memory packed_weights(const Tensor& t, const memory::desc& from, const memory::desc& to) {
  thread_local kernels::KeptCopies<PackLayouts, memory> kept;
  const auto make = [&] { return memory(to, cpu_engine()); };
  const auto fill = [&](memory& packed) { pack(t, from, to, packed); };
  return kernels::kept_copy(kept, t, PackLayouts{from, to}, make, fill);
}

int64_t weight_packs() {
  return packs;
}

}  // namespace mmx::dnnl_backend
