#include "nn/optim/optim_options.hpp"

#include <cmath>

#include "engine/error.hpp"

namespace mmx::nn {

void OptimOptions::validate() const {
  MMX_CHECK(batch >= 1, "train: `batch` must be at least 1, got ", batch);
  MMX_CHECK(steps >= 1, "train: `steps` must be at least 1, got ", steps);
  MMX_CHECK(lr > 0 && std::isfinite(lr), "train: `lr` must be a positive number, got ", lr);
  MMX_CHECK(min_lr >= 0 && min_lr <= lr, "train: `min_lr` must lie in [0, `lr`], got ", min_lr);
  MMX_CHECK(warmup >= 0 && warmup < steps, "train: `warmup` must lie in [0, `steps`), got ", warmup,
            " with `steps` ", steps);
  MMX_CHECK(weight_decay >= 0, "train: `weight_decay` must be >= 0, got ", weight_decay);
  MMX_CHECK(multimax_lr_scale > 0 && std::isfinite(multimax_lr_scale),
            "train: `multimax_lr_scale` must be a positive number, got ", multimax_lr_scale);
  MMX_CHECK(clip >= 0, "train: `clip` must be >= 0 (0 disables), got ", clip);
  MMX_CHECK(eval_interval >= 1, "train: `eval_interval` must be at least 1, got ", eval_interval);
  MMX_CHECK(extended_at >= 0 && extended_at < steps && std::isfinite(extended_lr),
            "train: `extended_at` must lie in [0, `steps`), got ", extended_at);
  MMX_CHECK(precision == "fp32" || precision == "bf16",
            "train: `precision` must be fp32 or bf16, got \"", precision, "\"");
}

void OptimOptions::set_steps_keeping_warmup_share(int64_t new_steps) {
  MMX_CHECK(steps >= 1 && new_steps >= 1, "train: `steps` must be at least 1, got ", new_steps);
  warmup = warmup * new_steps / steps;
  steps = new_steps;
}

void OptimOptions::extend_to(int64_t step, int64_t new_steps) {
  MMX_CHECK(new_steps > steps, "resume: `steps` ", new_steps, " is not beyond the run's ", steps,
            " (a resumed run can only be extended)");
  const WarmupCosineSchedule s = schedule().extended(step, new_steps);
  steps = s.total_steps;
  extended_at = s.extended_at;
  extended_lr = s.extended_lr;
}

void to_json(nlohmann::json& j, const OptimOptions& o) {
  j["batch"] = o.batch;
  j["steps"] = o.steps;
  j["lr"] = o.lr;
  j["min_lr"] = o.min_lr;
  j["warmup"] = o.warmup;
  j["weight_decay"] = o.weight_decay;
  j["multimax_lr_scale"] = o.multimax_lr_scale;
  j["clip"] = o.clip;
  j["eval_interval"] = o.eval_interval;
  j["seed"] = o.seed;
  j["data"] = o.data;
  j["precision"] = o.precision;
  j["extended_at"] = o.extended_at;
  j["extended_lr"] = o.extended_lr;
}

void from_json(const nlohmann::json& j, OptimOptions& o) {
  j.at("batch").get_to(o.batch);
  j.at("steps").get_to(o.steps);
  j.at("lr").get_to(o.lr);
  j.at("min_lr").get_to(o.min_lr);
  j.at("warmup").get_to(o.warmup);
  j.at("weight_decay").get_to(o.weight_decay);
  j.at("clip").get_to(o.clip);
  j.at("eval_interval").get_to(o.eval_interval);
  j.at("seed").get_to(o.seed);
  j.at("data").get_to(o.data);
  o.multimax_lr_scale = j.value("multimax_lr_scale", 1.0f);
  o.precision = j.value("precision", std::string("fp32"));
  o.extended_at = j.value("extended_at", int64_t{0});
  o.extended_lr = j.value("extended_lr", 0.0f);
}

}  // namespace mmx::nn
