#include "nn/module.hpp"

#include "engine/error.hpp"

namespace mmx::nn {

namespace {

void check_fresh_name(const std::string& name, const NamedTensors& parameters,
                      const std::vector<std::pair<std::string, Module*>>& children) {
  MMX_CHECK(!name.empty() && name.find('.') == std::string::npos, "Module: invalid name '", name,
            "' (non-empty, no dots)");
  for (const auto& [existing, tensor] : parameters)
    MMX_CHECK(existing != name, "Module: name '", name, "' registered twice");
  for (const auto& [existing, child] : children)
    MMX_CHECK(existing != name, "Module: name '", name, "' registered twice");
}

}  // namespace

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  check_fresh_name(name, parameters_, children_);
  MMX_CHECK(value.defined(), "Module: parameter '", name, "' is undefined");
  value.requires_grad_(true);
  parameters_.emplace_back(name, value);
  return value;
}

void Module::register_module(const std::string& name, Module& child) {
  check_fresh_name(name, parameters_, children_);
  children_.emplace_back(name, &child);
}

void Module::collect(const std::string& prefix, NamedTensors& out) const {
  for (const auto& [name, tensor] : parameters_) out.emplace_back(prefix + name, tensor);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

void Module::collect_modules(const std::string& prefix,
                             std::vector<std::pair<std::string, const Module*>>& out) const {
  for (const auto& [name, child] : children_) {
    out.emplace_back(prefix + name, child);
    child->collect_modules(prefix + name + ".", out);
  }
}

std::vector<std::pair<std::string, const Module*>> Module::named_modules() const {
  std::vector<std::pair<std::string, const Module*>> out;
  collect_modules("", out);
  return out;
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, tensor] : named_parameters()) out.push_back(tensor);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t total = 0;
  for (const auto& [name, tensor] : named_parameters()) total += tensor.numel();
  return total;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (auto& [name, tensor] : named_parameters()) tensor.zero_grad();
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  for (const auto& [name, tensor] : named_parameters()) out.emplace_back(name, tensor.detach());
  return out;
}

void Module::load_state_dict(const NamedTensors& state) {
  copy_named_tensors(named_parameters(), state, "load_state_dict");
}

}  // namespace mmx::nn
