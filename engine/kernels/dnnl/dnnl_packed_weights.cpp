#include "engine/kernels/dnnl/dnnl_packed_weights.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "engine/error.hpp"
#include "engine/kernels/dnnl/dnnl_context.hpp"

namespace mmx::dnnl_backend {

namespace {

using dnnl::memory;

thread_local int64_t packs = 0;

// A weight in a primitive's layout, valid while its storage's version is `version`. `owner` keeps
// the storage alive, so `start` cannot be reused by another tensor while the entry exists.
struct PackedCopy {
  Tensor owner;
  const float* start;
  memory::desc from, to;
  uint64_t version;
  memory packed;
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
  dnnl::primitive& reorder = cached_primitive(key, [&] {
    try {
      return dnnl::primitive(
          dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), from, cpu_engine(), to)));
    } catch (const dnnl::error& e) {
      throw Error(
          cat("matmul: oneDNN cannot pack weights into its layout on this CPU (", e.what(), ")"));
    }
  });
  memory source(from, cpu_engine(), const_cast<float*>(t.data()));
  reorder.execute(cpu_stream(), {{DNNL_ARG_FROM, source}, {DNNL_ARG_TO, packed}});
}

}  // namespace

memory packed_weights(const Tensor& t, const memory::desc& from, const memory::desc& to) {
  thread_local std::vector<PackedCopy> kept;
  const float* start = t.data();
  for (PackedCopy& entry : kept) {
    if (entry.start != start || entry.from != from || entry.to != to) continue;
    if (entry.version != t.version()) {
      pack(t, from, to, entry.packed);
      entry.version = t.version();
    }
    return entry.packed;
  }
  // Drop the copies of weights nobody else holds any more (a model that is gone).
  std::erase_if(kept, [](const PackedCopy& entry) { return entry.owner.sole_owner(); });
  PackedCopy& entry =
      kept.emplace_back(PackedCopy{t, start, from, to, t.version(), memory(to, cpu_engine())});
  pack(t, from, to, entry.packed);
  return entry.packed;
}

int64_t weight_packs() {
  return packs;
}

}  // namespace mmx::dnnl_backend
