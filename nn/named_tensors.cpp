#include "nn/named_tensors.hpp"

#include <map>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"

namespace mmx::nn {

namespace {

std::string shape_of(const Tensor& t) {
  return t.defined() ? to_string(t.shape()) : "undefined";
}

std::map<std::string, Tensor> index_by_name(const NamedTensors& tensors, const char* what) {
  std::map<std::string, Tensor> out;
  for (const auto& [name, tensor] : tensors)
    MMX_CHECK(out.emplace(name, tensor).second, what, ": tensor '", name, "' appears twice");
  return out;
}

}  // namespace

void copy_named_tensors(const NamedTensors& destination, const NamedTensors& source,
                        const char* what) {
  std::map<std::string, Tensor> incoming = index_by_name(source, what);
  std::map<std::string, Tensor> own = index_by_name(destination, what);
  // Validate everything before writing anything: a failed load leaves the state as it was.
  for (const auto& [name, tensor] : own) {
    auto it = incoming.find(name);
    MMX_CHECK(it != incoming.end(), what, ": missing tensor '", name, "' of shape ",
              shape_of(tensor));
    MMX_CHECK(it->second.defined() && it->second.shape() == tensor.shape(), what, ": tensor '",
              name, "' has shape ", shape_of(it->second), ", expected ", shape_of(tensor));
  }
  for (const auto& [name, tensor] : incoming)
    MMX_CHECK(own.count(name) == 1, what, ": unexpected tensor '", name, "' of shape ",
              shape_of(tensor));
  NoGrad no_grad;
  for (auto& [name, tensor] : own) tensor.copy_(incoming.at(name));
}

}  // namespace mmx::nn
