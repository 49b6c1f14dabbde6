// Copies of tensors kept across products until the tensor's storage version changes: a bf16
// operand's conversion (dnnl/dnnl_bf16_operands.cpp), a weight packed into a primitive's layout
// (dnnl/dnnl_packed_weights.cpp), an operand's row pairs (rows_product.cpp). Each caller keeps
// one list per thread, so no lock. Private to the kernels.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/tensor.hpp"

namespace mmx::kernels {

// Whether two weak handles are of the same storage: the same control block (owner_before is
// false both ways), even once it is gone, and never a new storage at the same address.
inline bool same_storage(const std::weak_ptr<const Storage>& a,
                         const std::weak_ptr<const Storage>& b) {
  return !a.owner_before(b) && !b.owner_before(a);
}

// A copy of the data at `start` (what `key` tells apart from other copies of it), filled while the
// storage's version was `version`. `storage` does not keep the storage alive: the copy is dropped
// once the storage is gone, and a new storage at the same address is never taken for it.
template <typename Key, typename Copy>
struct KeptCopy {
  std::weak_ptr<const Storage> storage;
  const float* start;
  Key key;
  uint64_t version;
  Copy copy;
};

template <typename Key, typename Copy>
using KeptCopies = std::vector<KeptCopy<Key, Copy>>;

// The copy of `t`'s data under `key` in `kept`, refilled with `fill(copy)` if t's storage version
// changed since it was filled. Without one, drops the copies of storages that are gone, then adds
// a copy made by `make()` and filled.
template <typename Key, typename Copy, typename Make, typename Fill>
Copy& kept_copy(KeptCopies<Key, Copy>& kept, const Tensor& t, const Key& key, Make make,
                Fill fill) {
  const float* start = t.data();
  const std::weak_ptr<const Storage> storage = t.weak_storage();
  for (KeptCopy<Key, Copy>& entry : kept) {
    if (entry.start != start || entry.key != key || !same_storage(entry.storage, storage)) continue;
    if (entry.version != t.version()) {
      fill(entry.copy);
      entry.version = t.version();
    }
    return entry.copy;
  }
  std::erase_if(kept, [](const KeptCopy<Key, Copy>& entry) { return entry.storage.expired(); });
  KeptCopy<Key, Copy>& entry =
      kept.emplace_back(KeptCopy<Key, Copy>{storage, start, key, t.version(), make()});
  fill(entry.copy);
  return entry.copy;
}

}  // namespace mmx::kernels
