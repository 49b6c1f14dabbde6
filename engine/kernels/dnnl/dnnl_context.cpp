#include "engine/kernels/dnnl/dnnl_context.hpp"

#include <omp.h>

#include <map>
#include <unordered_map>

#include "engine/error.hpp"
#include "engine/kernels/dnnl/dnnl_kernels.hpp"

namespace mmx::dnnl_backend {

namespace {
struct Cache {
  // One set per OpenMP thread count: some oneDNN primitives (the brgemm matmul) split their work
  // for the count they were created at and start that many threads whenever they run (oneDNN's
  // own cache keys them by the count too), so a count lowered for a busy machine
  // (AdaptiveThreads) needs primitives of its own.
  std::map<int, std::unordered_map<std::string, dnnl::primitive>> primitives_by_threads;
  kernels::PrimitiveCacheStats stats;
};
// Ops run on the calling thread; one cache per thread needs no lock.
Cache& cache() {
  thread_local Cache c;
  return c;
}
}  // namespace

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpu_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

dnnl::memory::desc memory_desc(const Shape& shape, const Shape& strides) {
  // oneDNN wants at least one dimension: a 0-d tensor is a [1].
  if (shape.empty()) return dnnl::memory::desc({1}, dnnl::memory::data_type::f32, {1});
  return dnnl::memory::desc(dnnl::memory::dims(shape.begin(), shape.end()),
                            dnnl::memory::data_type::f32,
                            dnnl::memory::dims(strides.begin(), strides.end()));
}

dnnl::memory::desc memory_desc(const Tensor& t) {
  return memory_desc(t.shape(), t.strides());
}

dnnl::memory memory_of(const Tensor& t) {
  return memory_of(t, memory_desc(t));
}

dnnl::memory memory_of(const Tensor& t, const dnnl::memory::desc& md) {
  return dnnl::memory(md, cpu_engine(), const_cast<float*>(t.data()));
}

dnnl::primitive& cached_primitive(const std::string& key,
                                  const std::function<dnnl::primitive()>& make) {
  Cache& c = cache();
  std::unordered_map<std::string, dnnl::primitive>& primitives =
      c.primitives_by_threads[omp_get_max_threads()];
  auto it = primitives.find(key);
  if (it != primitives.end()) {
    ++c.stats.reused;
    return it->second;
  }
  ++c.stats.created;
  return primitives.emplace(key, make()).first->second;
}

dnnl::primitive& cached_reorder(const std::string& key, const dnnl::memory::desc& from,
                                const dnnl::memory::desc& to, std::string_view failure,
                                std::string_view advice) {
  return cached_primitive(key, [&] {
    try {
      return dnnl::primitive(
          dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), from, cpu_engine(), to)));
    } catch (const dnnl::error& e) {
      throw Error(
          cat(failure, " on this CPU (", e.what(), ")", advice.empty() ? "" : "; ", advice));
    }
  });
}

std::string layout_key(const Tensor& t) {
  std::string k = to_string(t.shape());
  k += '/';
  k += to_string(t.strides());
  return k;
}

}  // namespace mmx::dnnl_backend

namespace mmx::kernels {
PrimitiveCacheStats dnnl_primitive_cache_stats() {
  return dnnl_backend::cache().stats;
}
}  // namespace mmx::kernels
