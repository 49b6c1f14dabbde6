#include "nn/optim/optimizer.hpp"

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"

namespace mmx::nn {

Optimizer::Optimizer(NamedTensors parameters, float learning_rate)
    : parameters_(std::move(parameters)), learning_rate_(learning_rate) {
  for (const auto& [name, p] : parameters_)
    MMX_CHECK(p.defined() && p.is_contiguous(), "Optimizer: parameter '", name,
              "' must be a defined, contiguous tensor");
}

std::vector<Tensor> Optimizer::add_buffer(const std::string& buffer) {
  std::vector<Tensor> out;
  for (const auto& [name, p] : parameters_) {
    out.push_back(Tensor::zeros(p.shape()));
    buffers_.emplace_back(buffer + "." + name, out.back());
  }
  return out;
}

void Optimizer::step() {
  NoGrad no_grad;
  ++step_count_;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    Tensor& p = parameters_[i].second;
    Tensor grad = p.grad();
    if (!grad.defined()) continue;
    MMX_CHECK(grad.shape() == p.shape(), "Optimizer: gradient of '", parameters_[i].first,
              "' has shape ", to_string(grad.shape()), ", parameter ", to_string(p.shape()));
    update(i, p, grad.contiguous());
    p.bump_version();
  }
}

void Optimizer::zero_grad() {
  for (auto& [name, p] : parameters_) p.zero_grad();
}

NamedTensors Optimizer::state_tensors() const {
  NamedTensors out;
  out.emplace_back("step", Tensor::from_data({static_cast<float>(step_count_)}, {1}));
  for (const auto& entry : buffers_) out.push_back(entry);
  return out;
}

void Optimizer::load_state_tensors(const NamedTensors& state) {
  NamedTensors own = state_tensors();
  copy_named_tensors(own, state, "load_state_tensors");
  float step = own.front().second.item();
  MMX_CHECK(step >= 0.0f, "load_state_tensors: negative step count ", step);
  step_count_ = static_cast<int64_t>(step);
}

}  // namespace mmx::nn
