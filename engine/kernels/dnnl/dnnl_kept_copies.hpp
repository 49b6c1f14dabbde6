// Copies of tensors kept across products until the tensor's storage version changes: a bf16
// operand's conversion (dnnl_bf16_operands.cpp), a weight packed into a primitive's layout
// (dnnl_packed_weights.cpp). Each caller keeps one list per thread, so no lock. Only files in
// engine/kernels/dnnl/ include this header.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.hpp"

namespace mmx::dnnl_backend {

// A copy of the data at `start` (what `key` tells apart from other copies of it), filled while the
// storage's version was `version`. `owner` keeps the storage alive, so `start` cannot be reused by
// another tensor while the entry exists.
template <typename Key, typename Copy>
struct KeptCopy {
  Tensor owner;
  const float* start;
  Key key;
  uint64_t version;
  Copy copy;
};

template <typename Key, typename Copy>
using KeptCopies = std::vector<KeptCopy<Key, Copy>>;

// The copy of `t`'s data under `key` in `kept`, refilled with `fill(copy)` if t's storage version
// changed since it was filled. Without one, drops the copies nobody else holds a handle to (their
// tensors are gone), then adds a copy made by `make()` and filled.
template <typename Key, typename Copy, typename Make, typename Fill>
Copy& kept_copy(KeptCopies<Key, Copy>& kept, const Tensor& t, const Key& key, Make make,
                Fill fill) {
  const float* start = t.data();
  for (KeptCopy<Key, Copy>& entry : kept) {
    if (entry.start != start || entry.key != key) continue;
    if (entry.version != t.version()) {
      fill(entry.copy);
      entry.version = t.version();
    }
    return entry.copy;
  }
  std::erase_if(kept, [](const KeptCopy<Key, Copy>& entry) { return entry.owner.sole_owner(); });
  KeptCopy<Key, Copy>& entry =
      kept.emplace_back(KeptCopy<Key, Copy>{t, start, key, t.version(), make()});
  fill(entry.copy);
  return entry.copy;
}

}  // namespace mmx::dnnl_backend
