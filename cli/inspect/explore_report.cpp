#include "cli/inspect/explore_report.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string_view>

#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "engine/io/json_input.hpp"
#include "engine/io/read_file.hpp"
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

// A number the report cannot hold (an order-2 modulation of scores near 1e19 overflows float32)
// is an error, never a JSON null.
void check_finite(const ExploreReport& report) {
  auto check = [](const auto& values, const std::string& what) {
    for (const auto v : values)
      MMX_CHECK(std::isfinite(v), "explore: ", what, " is ", v,
                " (float32 overflow); use --values of smaller magnitude or smaller --t");
  };
  for (const MappingResult& m : report.mappings) {
    check(m.p, m.name + " p");
    check(m.sigma, "MultiMax's sigma(x)");
    check(m.dsigma_dx, "MultiMax's dsigma/dx");
    check(std::array<double, 1>{m.entropy}, m.name + " entropy");
  }
  check(std::array<double, 1>{report.grad.loss}, "the loss");
  check(report.grad.dx, "dL/dx");
  check(report.grad.dt, "dL/dt");
  check(report.grad.dr, "dL/dr");
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

namespace {

// sigma(x) = x + t0 relu(r0 - x) + t1 relu(x - r1) [+ t2 relu(r2 - x)^2 + t3 relu(x - r3)^2]
// from the engine's ops, so autograd gives dsigma/dx, and through t and r their gradients.
Tensor modulation(const Tensor& x, const Tensor& t, const Tensor& r, int order) {
  auto tk = [&](int64_t k) { return slice(t, 0, k, k + 1); };
  auto rk = [&](int64_t k) { return slice(r, 0, k, k + 1); };
  Tensor sigma = x + tk(0) * relu(rk(0) - x) + tk(1) * relu(x - rk(1));
  if (order == 2)
    sigma = sigma + tk(2) * pow(relu(rk(2) - x), 2.0f) + tk(3) * pow(relu(x - rk(3)), 2.0f);
  return sigma;
}

}  // namespace

std::vector<double> log_probabilities(nn::AttentionKind kind, const std::vector<float>& x,
                                      const ExploreOptions& options, float temperature) {
  if (kind == nn::AttentionKind::MultiMax)
    return log_softmax_row(modulate(x, options.t, options.r, options.order).sigma);
  if (nn::normalizer(kind).has_temperature) {
    std::vector<float> scaled = x;
    for (float& v : scaled) v /= temperature;
    return log_softmax_row(scaled);
  }
  if (kind == nn::AttentionKind::EvSoftmax) {
    NoGrad no_grad;
    return log_softmax_row(evsoftmax_logits(row_tensor(x)).to_vector());
  }
  std::vector<double> out;
  for (float p : apply_normalizer(kind, x, options, temperature))
    out.push_back(std::log(static_cast<double>(p)));
  return out;
}

RowMeasures measure(nn::AttentionKind kind, const std::vector<float>& x,
                    const ExploreOptions& options, float temperature) {
  return measure_row(x, log_probabilities(kind, x, options, temperature), options.eps);
}

Modulation modulate(const std::vector<float>& xs, const std::array<float, 4>& t,
                    const std::array<float, 4>& r, int order) {
  MMX_CHECK(order == 1 || order == 2, "modulate: order must be 1 or 2, got ", order);
  Tensor x = row_tensor(xs);
  x.requires_grad_();
  Tensor sigma = modulation(x, param_tensor(t), param_tensor(r), order);
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
  report.reference = std::exp(
      log_softmax_row(x)[static_cast<size_t>(std::min_element(x.begin(), x.end()) - x.begin())]);
  auto add = [&](const nn::Normalizer& n, std::optional<float> temperature) {
    MappingResult result;
    result.name = n.name;
    result.temperature = temperature;
    result.p = apply_normalizer(n.kind, x, options, temperature.value_or(1.0f));
    const RowMeasures m = measure(n.kind, x, options, temperature.value_or(1.0f));
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
  const Modulation modulation_at_x = modulate(x, options.t, options.r, options.order);
  multimax_result->sigma = modulation_at_x.sigma;
  multimax_result->dsigma_dx = modulation_at_x.slope;

  // The loss -log p[K] = -log_softmax(sigma(x))[K]: its value in double, its gradients from the
  // cross-entropy op's backward through the modulation (dx, dt and dr together). Neither takes
  // the log of p, which underflows float32 once sigma's spread passes 87.
  GradientResult& grad = report.grad;
  grad.target = options.target.value_or(std::max_element(x.begin(), x.end()) - x.begin());
  // 0.0 - : a certain target prints loss 0, not -0
  grad.loss = 0.0 - log_softmax_row(modulation_at_x.sigma)[static_cast<size_t>(grad.target)];
  Tensor xt = row_tensor(x), t = param_tensor(options.t), r = param_tensor(options.r);
  xt.requires_grad_();
  t.requires_grad_();
  r.requires_grad_();
  const Tensor sigma = modulation(xt, t, r, options.order);
  cross_entropy(reshape(sigma, {1, -1}), {grad.target}).backward();
  grad.dx = xt.grad().to_vector();
  grad.dt = to_array4(t.grad());
  grad.dr = to_array4(r.grad());
  check_finite(report);
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

namespace {

// One finite float in full ("+2", "-1.5e3"); nullopt for anything else ("1e999", "nan", "").
std::optional<float> parse_number(std::string_view item) {
  float value = 0;
  const char* begin = item.data() + (item.starts_with('+') ? 1 : 0);
  const char* end = item.data() + item.size();
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (item.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

// Whitespace- or comma-separated numbers; an error names the line.
std::vector<float> parse_values_text(const std::string& text, const std::string& what) {
  std::vector<float> out;
  int64_t line = 1;
  size_t i = 0;
  auto separator = [](char c) { return c == ',' || std::isspace(static_cast<unsigned char>(c)); };
  while (i < text.size()) {
    if (separator(text[i])) {
      line += text[i++] == '\n';
      continue;
    }
    size_t end = i;
    while (end < text.size() && !separator(text[end])) ++end;
    const std::string_view item(text.data() + i, end - i);
    const std::optional<float> value = parse_number(item);
    MMX_CHECK(value.has_value(), what, " line ", line, ": '", item,
              "' is not a finite float32 number");
    out.push_back(*value);
    i = end;
  }
  return out;
}

std::vector<float> parse_values_json(const std::string& text, const std::string& what) {
  const std::optional<nlohmann::json> parsed = io::parse_json_if_valid(text, what);
  const nlohmann::json j = parsed.value_or(nlohmann::json());
  MMX_CHECK(j.is_array(), what,
            ": starts with '[' but is not a valid JSON array; give a JSON array of numbers or "
            "whitespace/comma-separated numbers");
  std::vector<float> out;
  for (size_t k = 0; k < j.size(); ++k) {
    const bool number = j[k].is_number();
    const double v = number ? j[k].get<double>() : 0.0;
    MMX_CHECK(number && std::isfinite(static_cast<float>(v)), what, ": element ", k, " (",
              io::json_excerpt(j[k]), ") is not a finite float32 number");
    out.push_back(static_cast<float>(v));
  }
  return out;
}

}  // namespace

std::vector<float> parse_floats(const std::string& text, const std::string& what) {
  std::vector<float> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty() && text.find_first_not_of(" \t") == std::string::npos) break;  // ""
    const std::optional<float> value = parse_number(item);
    MMX_CHECK(value.has_value(), what, ": '", item, "' is not a number (in '", text, "')");
    out.push_back(*value);
    start = comma + 1;
  }
  MMX_CHECK(!out.empty(), what, ": empty list; give comma-separated numbers, e.g. 10,8,-1");
  return out;
}

std::vector<float> parse_values(const std::string& text, const std::string& what) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  std::vector<float> out = first != std::string::npos && text[first] == '['
                               ? parse_values_json(text, what)
                               : parse_values_text(text, what);
  MMX_CHECK(!out.empty(), what,
            ": no numbers; give whitespace/comma-separated numbers or a JSON "
            "array");
  return out;
}

std::vector<float> read_values_file(const std::string& path) {
  const std::string what = cat("--values-file ", path);
  // A file as every reader takes one: regular (a FIFO would block, a device never end), capped.
  // A pipe comes in as '-'.
  if (path != "-") return parse_values(io::read_file_bytes(path, kValuesFileMaxBytes), what);
  std::istream& in = std::cin;
  // Chunk by chunk, stopping at the cap: an endless stdin is refused, not swallowed.
  std::string text;
  std::array<char, 1 << 16> chunk;
  do {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    text.append(chunk.data(), static_cast<size_t>(in.gcount()));
    MMX_CHECK(static_cast<int64_t>(text.size()) <= kValuesFileMaxBytes, what, ": larger than ",
              kValuesFileMaxBytes >> 20, " MiB; give fewer values");
  } while (in);
  MMX_CHECK(!in.bad(), what, ": read error");
  return parse_values(text, what);
}

}  // namespace mmx::cli
