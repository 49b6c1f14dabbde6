// The one place that owns oneDNN state: the CPU engine and stream, f32 memory descriptors from
// our shapes and strides, and the primitive cache (creating a primitive costs far more than
// running a small one, so each shape/stride/attribute combination is created once).
// Only files in engine/kernels/dnnl/ include this header.
#pragma once

#include <dnnl.hpp>
#include <functional>
#include <string>
#include <string_view>

#include "engine/tensor.hpp"

namespace mmx::dnnl_backend {

dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();

// f32 descriptor with our element strides (transposed or broadcast views need no copy).
dnnl::memory::desc memory_desc(const Shape& shape, const Shape& strides);
dnnl::memory::desc memory_desc(const Tensor& t);
// Wraps the tensor's data (no copy).
dnnl::memory memory_of(const Tensor& t);
dnnl::memory memory_of(const Tensor& t, const dnnl::memory::desc& md);

// Returns the primitive cached under `key`, creating it with `make` on the first call. Keys are
// built by the caller from the op kind, every shape, stride and attribute that defines it.
dnnl::primitive& cached_primitive(const std::string& key,
                                  const std::function<dnnl::primitive()>& make);

// The reorder from `from` to `to`, cached under `key`. Where oneDNN cannot make it, throws an
// Error: `failure` (what could not be done), " on this CPU (", oneDNN's reason, ")", and then
// "; " and `advice` if there is any.
dnnl::primitive& cached_reorder(const std::string& key, const dnnl::memory::desc& from,
                                const dnnl::memory::desc& to, std::string_view failure,
                                std::string_view advice = {});

// "[2,3]/[3,1]": the part of a cache key that describes one tensor's layout.
std::string layout_key(const Tensor& t);

}  // namespace mmx::dnnl_backend
