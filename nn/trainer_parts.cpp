#include "nn/trainer_parts.hpp"

#include <cmath>

#include "engine/autograd/tape.hpp"
#include "engine/measures.hpp"
#include "nn/distributed/data_parallel.hpp"
#include "nn/optim/grad_clip.hpp"

namespace mmx::nn {

namespace {
// Which parameter went bad first (registration order), for the error a non-finite loss raises.
std::string first_non_finite_parameter(const Module& model) {
  for (const auto& [name, p] : model.named_parameters())
    for (float v : p.to_vector())
      if (!std::isfinite(v)) return cat(" (parameter '", name, "' holds ", v, ")");
  return " (every parameter is finite: the forward pass overflowed)";
}
}  // namespace

float guarded_optimizer_step(Tensor& loss, float value, Module& model, Optimizer& optimizer,
                             float clip, int64_t step) {
  distributed::Communicator& comm = distributed::world();
  // The global batch's loss, before the check: every rank then takes the same decision (a
  // rank that alone stopped would leave the others waiting), and logs the same figure.
  if (comm.size() > 1) value = static_cast<float>(comm.allreduce_sum(value) / comm.size());
  if (!std::isfinite(value)) {
    autograd::clear_tape();
    throw Error(cat("train: the loss became ", value, " at step ", step,
                    first_non_finite_parameter(model),
                    "; stopping (the last checkpoint is kept). Try a lower `lr` or `clip` 1"));
  }
  loss.backward();
  // Averaged before clipping, so the norm (and every update) is the global batch's on each rank.
  distributed::average_gradients(model.parameters(), comm);
  const float norm = clip_grad_norm(model.parameters(), clip > 0 ? clip : INFINITY);
  if (!std::isfinite(norm)) {
    for (const auto& [name, p] : model.named_parameters()) {
      const Tensor g = p.grad();
      if (!g.defined()) continue;
      for (float v : g.to_vector())
        if (!std::isfinite(v)) {
          optimizer.zero_grad();
          throw Error(cat("train: the gradient of '", name, "' became ", v, " at step ", step,
                          "; stopping (the last checkpoint is kept)"));
        }
    }
  }
  optimizer.step();
  optimizer.zero_grad();
  return value;
}

void add_attention_measures(EvalRecord& record, const std::string& prefix,
                            const std::vector<AttentionMap>& maps) {
  for (size_t i = 0; i < maps.size(); ++i) {
    const AttentionMap& map = maps[i];
    const AttentionMeasures m =
        attention_measures(map.scores, map.probabilities, map.mask, map.causal);
    record.attention_layers.push_back(prefix + std::to_string(i));
    record.sparsity.push_back(m.sparsity);
    record.multimodality.push_back(m.multimodality);
  }
}

void RunningSums::add(float loss, std::chrono::steady_clock::time_point step_start) {
  loss_sum += loss;
  ++loss_count;
  seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count();
}

void RunningSums::report_and_reset(EvalRecord& record, double items_per_step) {
  record.train_loss = loss_count ? loss_sum / static_cast<double>(loss_count) : NAN;
  record.items_per_s =
      seconds > 0 ? static_cast<double>(loss_count) * items_per_step / seconds : 0.0;
  *this = RunningSums{};
}

nlohmann::json RunningSums::to_json() const {
  return {{"loss_sum", loss_sum}, {"loss_count", loss_count}, {"seconds", seconds}};
}

RunningSums RunningSums::from_json(const nlohmann::json& json) {
  return {json.at("loss_sum").get<double>(), json.at("loss_count").get<int64_t>(),
          json.at("seconds").get<double>()};
}

nlohmann::json merge_known_fields(const nlohmann::json& defaults, const nlohmann::json& options,
                                  const std::string& where) {
  MMX_CHECK(options.is_object(), where, ": expected a JSON object, got ", options.dump());
  nlohmann::json merged = defaults;
  for (const auto& [key, value] : options.items()) {
    MMX_CHECK(defaults.contains(key), where, ": unknown field '", key, "'");
    if (defaults[key].is_object())
      merged[key] = merge_known_fields(defaults[key], value, where + "." + key);
    else
      merged[key] = value;
  }
  return merged;
}

}  // namespace mmx::nn
