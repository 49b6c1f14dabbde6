/// \file
/// Module: the base of every layer and model. It owns named parameters, registered children,
/// train/eval mode, and the state dict (ordered name -> Tensor) used by checkpoints.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.hpp"
#include "nn/named_tensors.hpp"

namespace mmx::nn {

/// The base of every layer and model (see the file comment).
class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  /// Children are registered by address, so a module never moves once built.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  /// Every parameter of this module and its children, in registration order, with dotted
  /// names such as "blocks.3.attn.qkv.weight".
  NamedTensors named_parameters() const;
  /// The same parameters without their names.
  std::vector<Tensor> parameters() const;
  int64_t parameter_count() const;  ///< total number of scalars
  /// Every module beneath this one (not itself), parents before children in registration
  /// order, with dotted names such as "blocks.3.attn.multimax".
  std::vector<std::pair<std::string, const Module*>> named_modules() const;

  void train(bool on = true);  ///< recursive
  /// train(false): dropout off.
  void eval() { train(false); }
  /// Whether dropout is on.
  bool is_training() const { return training_; }

  /// Drops the gradient of every parameter.
  void zero_grad();

  /// Detached handles sharing storage with the parameters (no copy).
  NamedTensors state_dict() const;
  /// Copies `state` into the parameters. Every name must match and every shape must agree;
  /// otherwise nothing is changed and an mmx::Error names the offending tensor.
  void load_state_dict(const NamedTensors& state);

 protected:
  /// Marks `value` as requiring grad and returns the handle the module keeps.
  Tensor register_parameter(const std::string& name, Tensor value);
  /// Adds `child` under `name`: its parameters become "name.<theirs>".
  void register_module(const std::string& name, Module& child);

 private:
  void collect(const std::string& prefix, NamedTensors& out) const;
  void collect_modules(const std::string& prefix,
                       std::vector<std::pair<std::string, const Module*>>& out) const;

  NamedTensors parameters_;
  std::vector<std::pair<std::string, Module*>> children_;
  bool training_ = true;
};

}  // namespace mmx::nn
