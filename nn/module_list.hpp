/// \file
/// ModuleList: an indexed run of same-typed children, named "0", "1", ... so that a GPT's blocks
/// get parameter names like "blocks.3.attn.qkv.weight".
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nn/module.hpp"

namespace mmx::nn {

template <typename M>
/// Same-typed children named "0", "1", ... (see the file comment).
class ModuleList : public Module {
 public:
  /// Registers `item` under the next index and returns it.
  M& push_back(std::unique_ptr<M> item) {
    register_module(std::to_string(items_.size()), *item);
    items_.push_back(std::move(item));
    return *items_.back();
  }

  /// The number of children.
  size_t size() const { return items_.size(); }
  /// Child `i` (bounds-checked).
  const M& operator[](size_t i) const { return *items_.at(i); }
  /// Iteration over the children (unique_ptrs), in order.
  auto begin() const { return items_.begin(); }
  /// The end of the iteration.
  auto end() const { return items_.end(); }

 private:
  std::vector<std::unique_ptr<M>> items_;
};

}  // namespace mmx::nn
