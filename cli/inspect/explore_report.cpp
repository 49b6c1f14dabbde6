#include "cli/inspect/explore_report.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/measures.hpp"
#include "engine/normalizers.hpp"
#include "engine/ops.hpp"

namespace mmx::cli {

namespace {

Tensor row_tensor(const std::vector<float>& values) {
  return Tensor::from_data(values, {static_cast<int64_t>(values.size())});
}

Tensor param_tensor(const std::array<float, 4>& values) {
  return Tensor::from_data(std::vector<float>(values.begin(), values.end()), {4});
}

std::array<float, 4> to_array4(const Tensor& t) {
  const std::vector<float> v = t.to_vector();
  return {v[0], v[1], v[2], v[3]};
}

void validate(const ExploreOptions& o) {
  MMX_CHECK(!o.values.empty(),
            "explore: --values is empty; give at least one number, e.g. 10,8,-1");
  for (float v : o.values)
    MMX_CHECK(std::isfinite(v), "explore: --values has a non-finite entry ", v);
  for (size_t k = 0; k < 4; ++k)
    MMX_CHECK(std::isfinite(o.t[k]) && std::isfinite(o.r[k]),
              "explore: --t and --r must be finite");
  MMX_CHECK(o.order == 1 || o.order == 2, "explore: --order must be 1 or 2, got ", o.order);
  MMX_CHECK(!o.temperatures.empty(), "explore: --temperatures is empty");
  for (float T : o.temperatures)
    MMX_CHECK(std::isfinite(T) && T > 0, "explore: temperature ", T,
              " must be positive and finite");
  MMX_CHECK(std::isfinite(o.eps), "explore: --eps must be finite, got ", o.eps);
  if (o.target) {
    const auto n = static_cast<int64_t>(o.values.size());
    MMX_CHECK(*o.target >= 0 && *o.target < n, "explore: --target ", *o.target, " is outside [0, ",
              n, ") for ", n, " values");
  }
}

}  // namespace

std::vector<float> apply_normalizer(nn::AttentionKind kind, const std::vector<float>& x,
                                    const ExploreOptions& options, float temperature) {
  NoGrad no_grad;
  const MultiMaxParams params{param_tensor(options.t), param_tensor(options.r), options.order};
  nn::NormalizerInputs inputs;
  inputs.multimax = &params;
  inputs.temperature = temperature;
  return nn::normalizer(kind).apply(row_tensor(x), inputs).to_vector();
}

Measures measure(const std::vector<float>& x, const std::vector<float>& p, float eps) {
  NoGrad no_grad;
  const Tensor xt = row_tensor(x), pt = row_tensor(p);
  // The default reference s: the smallest SoftMax(t=1) probability of x (docs/design.md,
  // "Sparsity and multi-modality").
  return {multimodality(xt, pt, eps).item(), sparsity(xt, pt, eps).item(),
          static_cast<int64_t>(support_size(pt).item()), entropy(pt).item()};
}

Modulation modulate(const std::vector<float>& xs, const std::array<float, 4>& t,
                    const std::array<float, 4>& r, int order) {
  MMX_CHECK(order == 1 || order == 2, "modulate: order must be 1 or 2, got ", order);
  Tensor x = row_tensor(xs);
  x.requires_grad_();
  // sigma(x) = x + t0 relu(r0 - x) + t1 relu(x - r1) [+ t2 relu(r2 - x)^2 + t3 relu(x - r3)^2]
  Tensor sigma = x + relu(r[0] - x) * t[0] + relu(x - r[1]) * t[1];
  if (order == 2)
    sigma = sigma + pow(relu(r[2] - x), 2.0f) * t[2] + pow(relu(x - r[3]), 2.0f) * t[3];
  // sigma acts elementwise, so d(sum sigma)/dx_i is dsigma/dx at x_i.
  sum(sigma).backward();
  return {sigma.detach().to_vector(), x.grad().to_vector()};
}

ExploreReport explore(const ExploreOptions& options) {
  validate(options);
  const std::vector<float>& x = options.values;
  ExploreReport report;
  report.input = x;
  report.eps = options.eps;
  report.reference = softmax_min_probability(row_tensor(x)).item();
  auto add = [&](const nn::Normalizer& n, std::optional<float> temperature) {
    MappingResult result;
    result.name = n.name;
    result.temperature = temperature;
    result.p = apply_normalizer(n.kind, x, options, temperature.value_or(1.0f));
    const Measures m = measure(x, result.p, options.eps);
    result.multimodality = m.multimodality;
    result.sparsity = m.sparsity;
    result.support = m.support;
    result.entropy = m.entropy;
    report.mappings.push_back(std::move(result));
    return &report.mappings.back();
  };
  // Every row of the table, MultiMax last: the report explains its modulation below the table.
  for (const nn::Normalizer& n : nn::normalizers()) {
    if (n.kind == nn::AttentionKind::MultiMax) continue;
    if (n.has_temperature)
      for (float T : options.temperatures) add(n, T);
    else
      add(n, std::nullopt);
  }
  MappingResult* multimax_result = add(nn::normalizer(nn::AttentionKind::MultiMax), std::nullopt);
  const Modulation modulation = modulate(x, options.t, options.r, options.order);
  multimax_result->sigma = modulation.sigma;
  multimax_result->dsigma_dx = modulation.slope;

  // The loss -log p[K] through the multimax op; its backward gives dx, dt and dr together.
  GradientResult& grad = report.grad;
  grad.target = options.target.value_or(std::max_element(x.begin(), x.end()) - x.begin());
  Tensor xt = row_tensor(x), t = param_tensor(options.t), r = param_tensor(options.r);
  xt.requires_grad_();
  t.requires_grad_();
  r.requires_grad_();
  const Tensor p = multimax(xt, {t, r, options.order});
  const Tensor loss = sum(neg(log(slice(p, 0, grad.target, grad.target + 1))));
  loss.backward();
  grad.loss = loss.item();
  grad.dx = xt.grad().to_vector();
  grad.dt = to_array4(t.grad());
  grad.dr = to_array4(r.grad());
  return report;
}

nlohmann::ordered_json to_json(const ExploreReport& report) {
  nlohmann::ordered_json mappings = nlohmann::ordered_json::array();
  for (const MappingResult& m : report.mappings) {
    nlohmann::ordered_json entry{{"name", m.name}};
    if (m.temperature) entry["temperature"] = *m.temperature;
    entry["p"] = m.p;
    entry["multimodality"] = m.multimodality;
    entry["sparsity"] = m.sparsity;
    entry["support"] = m.support;
    entry["entropy"] = m.entropy;
    if (!m.sigma.empty()) {
      entry["sigma"] = m.sigma;
      entry["dsigma_dx"] = m.dsigma_dx;
    }
    mappings.push_back(std::move(entry));
  }
  return {{"input", report.input},
          {"eps", report.eps},
          {"reference", report.reference},
          {"mappings", std::move(mappings)},
          {"grad",
           {{"target", report.grad.target},
            {"loss", report.grad.loss},
            {"dx", report.grad.dx},
            {"dt", report.grad.dt},
            {"dr", report.grad.dr}}}};
}

namespace {

std::string format_list(const float* values, size_t n) {
  std::string out = "[";
  char buffer[32];
  for (size_t i = 0; i < n; ++i) {
    const double v = values[i] == 0.0f ? 0.0 : values[i];  // no "-0"
    std::snprintf(buffer, sizeof buffer, "%s%.4g", i ? ", " : "", v);
    out += buffer;
  }
  return out + "]";
}
std::string format_list(const std::vector<float>& v) {
  return format_list(v.data(), v.size());
}
std::string format_list(const std::array<float, 4>& v) {
  return format_list(v.data(), v.size());
}

// M or S; "n/a" when the measure has no term (e.g. M with no score strictly between eps and the
// max).
std::string format_measure(double v) {
  if (std::isnan(v)) return "n/a";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4f", v);
  return buffer;
}

}  // namespace

std::string to_text(const ExploreReport& report) {
  std::ostringstream out;
  char line[256];
  out << "input x = " << format_list(report.input) << "   eps = " << report.eps
      << "   s = " << report.reference << " (smallest SoftMax T=1 probability)\n"
      << "M: multi-modality, S: sparsity (the paper's Definitions 3.2, 3.3; higher = more)\n\n";
  std::snprintf(line, sizeof line, "%-16s %-36s %8s %8s %8s %8s\n", "mapping", "p", "M", "S",
                "support", "entropy");
  out << line;
  for (const MappingResult& m : report.mappings) {
    std::string name = m.name;
    if (m.temperature) {
      char t[32];
      std::snprintf(t, sizeof t, " T=%g", static_cast<double>(*m.temperature));
      name += t;
    }
    std::snprintf(line, sizeof line, "%-16s %-36s %8s %8s %8lld %8.4f\n", name.c_str(),
                  format_list(m.p).c_str(), format_measure(m.multimodality).c_str(),
                  format_measure(m.sparsity).c_str(), static_cast<long long>(m.support), m.entropy);
    out << line;
  }
  for (const MappingResult& m : report.mappings) {
    if (m.sigma.empty()) continue;
    out << "\nMultiMax modulation (dsigma/dx < 1: flatter than identity, > 1: steeper)\n";
    std::snprintf(line, sizeof line, "%12s %12s %12s\n", "x", "sigma(x)", "dsigma/dx");
    out << line;
    for (size_t i = 0; i < m.sigma.size(); ++i) {
      std::snprintf(line, sizeof line, "%12.4g %12.4g %12.4g\n",
                    static_cast<double>(report.input[i]), static_cast<double>(m.sigma[i]),
                    static_cast<double>(m.dsigma_dx[i]));
      out << line;
    }
  }
  const GradientResult& g = report.grad;
  out << "\nloss -log p[" << g.target << "] = " << g.loss
      << "   gradients from the multimax op's backward:\n"
      << "  dL/dx = " << format_list(g.dx) << "\n"
      << "  dL/dt = " << format_list(g.dt) << "\n"
      << "  dL/dr = " << format_list(g.dr) << "\n";
  return out.str();
}

std::vector<float> parse_floats(const std::string& text, const std::string& what) {
  std::vector<float> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty() && text.find_first_not_of(" \t") == std::string::npos) break;  // ""
    float value = 0;
    const char* end = item.data() + item.size();
    const auto [ptr, ec] =
        std::from_chars(item.data() + (item.starts_with('+') ? 1 : 0), end, value);
    MMX_CHECK(!item.empty() && ec == std::errc() && ptr == end && std::isfinite(value), what, ": '",
              item, "' is not a number (in '", text, "')");
    out.push_back(value);
    start = comma + 1;
  }
  MMX_CHECK(!out.empty(), what, ": empty list; give comma-separated numbers, e.g. 10,8,-1");
  return out;
}

}  // namespace mmx::cli
