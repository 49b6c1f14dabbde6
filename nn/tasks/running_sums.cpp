#include "nn/tasks/running_sums.hpp"

#include <cmath>

#include "nn/tasks/trainer.hpp"

namespace mmx::nn {

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

}  // namespace mmx::nn
