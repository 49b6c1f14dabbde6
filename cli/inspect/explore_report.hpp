// The numbers behind `mmx explore`: every normalizer applied to one input vector, with the
// paper's multi-modality and sparsity measures, MultiMax's modulation and its autograd gradients.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/measures.hpp"
#include "nn/layers/normalizers.hpp"

namespace mmx::cli {

// The default MultiMax setting (second order). Below the low breakpoint 0 the scores are pushed
// down (linearly by t0 and quadratically by t2): a low temperature that silences small scores,
// so the output gets sparser. Above the high breakpoint 7 the slope is 1 + t1 = 0.5: a high
// temperature that brings the large scores closer, so the output gets more multi-modal.
inline constexpr std::array<float, 4> kDefaultT{-1.0f, -0.5f, -1.0f, 0.0f};
inline constexpr std::array<float, 4> kDefaultR{0.0f, 7.0f, 0.0f, 7.0f};

struct ExploreOptions {
  std::vector<float> values;
  std::array<float, 4> t = kDefaultT;
  std::array<float, 4> r = kDefaultR;
  int order = 2;
  std::vector<float> temperatures{0.5f, 1.0f, 2.0f};
  float eps = 0.0f;               // relevance threshold of the measures
  std::optional<int64_t> target;  // K of the loss -log p[K]; default: index of the largest input
};

// One normalizer's output on the input and its measures.
struct MappingResult {
  std::string name;                  // the table's name: softmax, multimax, ...
  std::optional<float> temperature;  // softmax only
  std::vector<float> p;
  double multimodality = 0;
  double sparsity = 0;
  int64_t support = 0;
  double entropy = 0;
  std::vector<float> sigma, dsigma_dx;  // multimax only: sigma(x) and its slope at each x
};

// The cross-entropy loss -log p[K] of MultiMax and its gradients: a log-softmax of the modulated
// scores, so both stay finite where p[K] underflows float32.
struct GradientResult {
  int64_t target = 0;
  double loss = 0;
  std::vector<float> dx;
  std::array<float, 4> dt{}, dr{};
};

struct ExploreReport {
  std::vector<float> input;
  float eps = 0;
  double reference = 0;  // s of the sparsity measure: the smallest SoftMax(t=1) probability
  std::vector<MappingResult> mappings;
  GradientResult grad;
};

// Validates the options (mmx::Error naming the bad one) and computes the report.
ExploreReport explore(const ExploreOptions& options);

// MultiMax's modulation sigma(x) and dsigma/dx at each of `xs`, built from the engine's ops so
// the slope comes from autograd (one-sided 0 at a kink, as relu'(0) = 0).
struct Modulation {
  std::vector<float> sigma, slope;
};
Modulation modulate(const std::vector<float>& xs, const std::array<float, 4>& t,
                    const std::array<float, 4>& r, int order);

// A normalizer of nn/layers/normalizers.hpp's table on one input row (temperature is read by
// SoftMax only; MultiMax reads options.t, .r, .order).
std::vector<float> apply_normalizer(nn::AttentionKind kind, const std::vector<float>& x,
                                    const ExploreOptions& options, float temperature = 1.0f);

// log p of that normalizer in double: for SoftMax, MultiMax and EvSoftMax a log-softmax of the
// scaled, modulated or kept scores, so weights below float32's e^-87.3 keep their logs; for
// SparseMax and EntMax-1.5 log p (their zeros are exact).
std::vector<double> log_probabilities(nn::AttentionKind kind, const std::vector<float>& x,
                                      const ExploreOptions& options, float temperature = 1.0f);

// The paper's measures of that normalizer's output on input x, from log p, with s = the
// smallest SoftMax(t=1) probability of x. M or S is NaN when it has no term.
RowMeasures measure(nn::AttentionKind kind, const std::vector<float>& x,
                    const ExploreOptions& options, float temperature = 1.0f);

nlohmann::ordered_json to_json(const ExploreReport& report);
std::string to_text(const ExploreReport& report);

// Parses "10,8,-1" (spaces allowed); `what` names the option in errors.
std::vector<float> parse_floats(const std::string& text, const std::string& what);

// A long score vector: whitespace- or comma-separated numbers (an error names the line), or a
// JSON array when the text starts with '['. `what` names the source in errors.
std::vector<float> parse_values(const std::string& text, const std::string& what);
// The largest --values-file read, 64 MiB: some 5 million values as text.
inline constexpr int64_t kValuesFileMaxBytes = int64_t{64} << 20;
// parse_values of the file at `path`, or of stdin for "-", refusing more than
// kValuesFileMaxBytes.
std::vector<float> read_values_file(const std::string& path);

}  // namespace mmx::cli
