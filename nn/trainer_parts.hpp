/// \file
/// The pieces every Trainer implementation shares: the guarded optimizer step, the running sums
/// between evaluations, and reading checkpoint metadata fields with errors that name them.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/error.hpp"
#include "engine/tensor.hpp"
#include "nn/attention_map.hpp"
#include "nn/module.hpp"
#include "nn/optim/optimizer.hpp"
#include "nn/trainer.hpp"

namespace mmx::data {
struct Checkpoint;
}

namespace mmx::nn {

/// Each task's constructors, defined beside its trainer (lm_trainer.cpp, vit_trainer.cpp,
/// mt_trainer.cpp), for make_trainer and resume_trainer. Declared together here so that the
/// dispatch (trainer.cpp) needs neither the trainers' headers nor their datasets'.
/// `options` is the task's full options JSON (defaults already merged in).
std::unique_ptr<Trainer> make_lm_trainer(const nlohmann::json& options);
/// A fresh vit run from its options JSON.
std::unique_ptr<Trainer> make_vit_trainer(const nlohmann::json& options);
/// A fresh mt run from its options JSON.
std::unique_ptr<Trainer> make_mt_trainer(const nlohmann::json& options);
/// An lm run continued from checkpoint `c` read from `dir`.
std::unique_ptr<Trainer> resume_lm_trainer(const data::Checkpoint& c,
                                           const std::filesystem::path& dir);
/// A vit run continued from checkpoint `c` read from `dir`.
std::unique_ptr<Trainer> resume_vit_trainer(const data::Checkpoint& c,
                                            const std::filesystem::path& dir);
/// An mt run continued from checkpoint `c` read from `dir`.
std::unique_ptr<Trainer> resume_mt_trainer(const data::Checkpoint& c,
                                           const std::filesystem::path& dir);
/// lm's options JSON with every default.
nlohmann::json default_lm_options();
/// vit's options JSON with every default.
nlohmann::json default_vit_options();
/// mt's options JSON with every default.
nlohmann::json default_mt_options();

/// Backward from `loss` (whose value is `value`), clip the global gradient norm to `clip` (0: no
/// clip), update and zero the gradients. `step` is the 1-based number of this step, for errors:
/// a non-finite loss or gradient throws an mmx::Error before any parameter changes.
/// Under data-parallel training (distributed::world() has several ranks) the loss and the
/// gradients are first averaged over the ranks. Returns the loss averaged over the ranks
/// (`value` itself on a single process).
float guarded_optimizer_step(Tensor& loss, float value, Module& model, Optimizer& optimizer,
                             float clip, int64_t step);

/// Appends each map's S and M to `record`, naming layer i `prefix` + i ("" for lm and vit;
/// "enc.", "dec.", "cross." for mt).
void add_attention_measures(EvalRecord& record, const std::string& prefix,
                            const std::vector<AttentionMap>& maps);

/// Training loss and time summed between evaluations (saved in checkpoints, so a resumed run
/// logs the same means).
struct RunningSums {
  /// training losses summed since the last evaluation
  double loss_sum = 0;
  /// steps summed
  int64_t loss_count = 0;
  /// their wall time
  double seconds = 0;

  /// Counts one step: its loss and the time since `step_start`.
  void add(float loss, std::chrono::steady_clock::time_point step_start);
  /// Fills record.train_loss and record.items_per_s, then starts over.
  void report_and_reset(EvalRecord& record, double items_per_step);
  /// For checkpoints.
  nlohmann::json to_json() const;
  /// The inverse of to_json().
  static RunningSums from_json(const nlohmann::json& json);
};

/// meta[key] as T; a missing or mistyped field is an mmx::Error naming the checkpoint and key.
template <typename T>
T checkpoint_field(const nlohmann::json& meta, const char* key, const std::filesystem::path& dir) {
  try {
    return meta.at(key).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(cat("checkpoint ", dir.string(), ": metadata field '", key,
                    "' is missing or malformed (", e.what(), ")"));
  }
}

/// Every key of `options` must exist in `defaults` (recursively, objects only); the result is
/// `defaults` with `options` written over it. `where` prefixes errors ("vit options").
nlohmann::json merge_known_fields(const nlohmann::json& defaults, const nlohmann::json& options,
                                  const std::string& where);

/// Parses options JSON into T, turning nlohmann errors into an mmx::Error naming `where`.
template <typename T>
T parse_options(const nlohmann::json& json, const std::string& where) {
  try {
    return json.get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(cat(where, ": ", e.what()));
  }
}

}  // namespace mmx::nn
