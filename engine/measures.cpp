#include "engine/measures.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "engine/error.hpp"
#include "engine/kernels/row_layout.hpp"

namespace mmx {

namespace {

bool open(float score) {
  return score > -INFINITY;
}

// Every row measure reads phi as log phi in double (-inf: a weight of exactly 0), so weights
// below float32's range (e^-87.3) keep their value.
std::vector<double> logs_of(const float* phi, int64_t n) {
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) out[j] = std::log(static_cast<double>(phi[j]));
  return out;
}

double row_multimodality(const float* x, const double* log_phi, int64_t n, double eps) {
  double top_x = -INFINITY, top_phi = 0.0;
  for (int64_t j = 0; j < n; ++j)
    if (open(x[j])) {
      top_x = std::max(top_x, static_cast<double>(x[j]));
      top_phi = std::max(top_phi, std::exp(log_phi[j]));
    }
  double gaps = 0.0;
  int64_t terms = 0;
  for (int64_t j = 0; j < n; ++j)
    if (open(x[j]) && eps < x[j] && x[j] < top_x) {
      gaps += top_phi - std::exp(log_phi[j]);
      ++terms;
    }
  return terms ? 1.0 - gaps / static_cast<double>(terms) : std::nan("");
}

// log of the smallest SoftMax(t=1) probability of the row: (min - max) - log sum exp(x - max),
// finite however far apart the scores are.
double row_log_softmax_min(const float* x, int64_t n) {
  double top = -INFINITY, low = INFINITY;
  for (int64_t j = 0; j < n; ++j)
    if (open(x[j])) {
      top = std::max(top, static_cast<double>(x[j]));
      low = std::min(low, static_cast<double>(x[j]));
    }
  if (top == -INFINITY) return std::nan("");
  double total = 0.0;
  for (int64_t j = 0; j < n; ++j)
    if (open(x[j])) total += std::exp(x[j] - top);
  return (low - top) - std::log(total);
}

// Each term exp((s - phi)/s - 1) = exp(-phi/s) = exp(-exp(log phi - log s)).
double row_sparsity(const float* x, const double* log_phi, int64_t n, double eps, double log_s) {
  double total = 0.0;
  int64_t terms = 0;
  for (int64_t j = 0; j < n; ++j)
    if (open(x[j]) && x[j] < eps) {
      total += std::exp(-std::exp(log_phi[j] - log_s));
      ++terms;
    }
  return terms ? total / static_cast<double>(terms) : std::nan("");
}

double row_support(const double* log_phi, int64_t n) {
  return static_cast<double>(
      std::count_if(log_phi, log_phi + n, [](double l) { return l > -INFINITY; }));
}

double row_entropy(const double* log_phi, int64_t n) {
  double h = 0.0;
  for (int64_t j = 0; j < n; ++j)
    if (log_phi[j] > -INFINITY) h -= std::exp(log_phi[j]) * log_phi[j];
  return h;
}

Shape row_shape(const Tensor& t) {
  return Shape(t.shape().begin(), t.shape().end() - 1);
}

// Applies fn(row index, x row, log phi row, n) to every row; the result has one value per row.
Tensor per_row(const char* op, const Tensor& x, const Tensor& phi,
               const std::function<double(int64_t, const float*, const double*, int64_t)>& fn) {
  MMX_CHECK(x.defined() && x.dim() >= 1, op, ": needs a scores tensor with at least one axis");
  MMX_CHECK(!phi.defined() || phi.shape() == x.shape(), op, ": scores of shape ",
            to_string(x.shape()), " and distribution of shape ", to_string(phi.shape()), " differ");
  const std::vector<float> xv = x.to_vector();
  const std::vector<float> pv = phi.defined() ? phi.to_vector() : xv;
  const int64_t n = x.size(-1);
  Tensor out = Tensor::zeros(row_shape(x));
  for (int64_t row = 0; row < out.numel(); ++row) {
    const std::vector<double> log_phi = logs_of(pv.data() + row * n, n);
    out.data()[row] = static_cast<float>(fn(row, xv.data() + row * n, log_phi.data(), n));
  }
  return out;
}

}  // namespace

Tensor multimodality(const Tensor& x, const Tensor& phi, float eps) {
  return per_row("multimodality", x, phi,
                 [eps](int64_t, const float* xr, const double* pr, int64_t n) {
                   return row_multimodality(xr, pr, n, eps);
                 });
}

Tensor softmax_min_probability(const Tensor& x) {
  return per_row("softmax_min_probability", x, Tensor(),
                 [](int64_t, const float* xr, const double*, int64_t n) {
                   return std::exp(row_log_softmax_min(xr, n));
                 });
}

Tensor sparsity(const Tensor& x, const Tensor& phi, float eps, const Tensor& reference) {
  std::vector<float> s;
  if (reference.defined()) {
    MMX_CHECK(reference.numel() == 1 || reference.shape() == row_shape(x),
              "sparsity: reference of shape ", to_string(reference.shape()),
              " is neither one value nor one per row of scores ", to_string(x.shape()));
    s = reference.to_vector();
  }
  return per_row(
      "sparsity", x, phi, [&](int64_t row, const float* xr, const double* pr, int64_t n) {
        // A given s is floored at the smallest normal double: a reference of 0 still gives
        // exp(-phi/s) -> 1 for phi = 0.
        const double log_s = s.empty()
                                 ? row_log_softmax_min(xr, n)
                                 : std::log(std::max<double>(s[s.size() == 1 ? 0 : row],
                                                             std::numeric_limits<double>::min()));
        return row_sparsity(xr, pr, n, eps, log_s);
      });
}

Tensor support_size(const Tensor& phi) {
  return per_row("support_size", phi, phi, [](int64_t, const float*, const double* pr, int64_t n) {
    return row_support(pr, n);
  });
}

Tensor entropy(const Tensor& phi) {
  return per_row("entropy", phi, phi, [](int64_t, const float*, const double* pr, int64_t n) {
    return row_entropy(pr, n);
  });
}

std::vector<double> log_softmax_row(const std::vector<float>& y) {
  MMX_CHECK(!y.empty(), "log_softmax_row: needs at least one entry");
  const size_t top = static_cast<size_t>(std::max_element(y.begin(), y.end()) - y.begin());
  double rest = 0.0;
  for (size_t j = 0; j < y.size(); ++j)
    if (j != top) rest += std::exp(static_cast<double>(y[j]) - y[top]);
  const double log_total = std::log1p(rest);
  std::vector<double> out(y.size());
  for (size_t j = 0; j < y.size(); ++j) out[j] = (static_cast<double>(y[j]) - y[top]) - log_total;
  return out;
}

RowMeasures measure_row(const std::vector<float>& x, const std::vector<double>& log_phi,
                        float eps) {
  const auto n = static_cast<int64_t>(x.size());
  MMX_CHECK(log_phi.size() == x.size(), "measure_row: ", x.size(), " scores and ", log_phi.size(),
            " log-probabilities differ");
  return {row_multimodality(x.data(), log_phi.data(), n, eps),
          row_sparsity(x.data(), log_phi.data(), n, eps, row_log_softmax_min(x.data(), n)),
          static_cast<int64_t>(row_support(log_phi.data(), n)), row_entropy(log_phi.data(), n)};
}

AttentionMeasures attention_measures(const Tensor& scores, const Tensor& probs, const Tensor& mask,
                                     bool causal, const Tensor& logits) {
  MMX_CHECK(probs.defined() && probs.shape() == scores.shape(),
            "attention_measures: scores of shape ", to_string(scores.shape()),
            " and probabilities of shape ", to_string(probs.defined() ? probs.shape() : Shape{}),
            " differ");
  MMX_CHECK(!logits.defined() || logits.shape() == scores.shape(),
            "attention_measures: scores of shape ", to_string(scores.shape()),
            " and logits of shape ", to_string(logits.defined() ? logits.shape() : Shape{}),
            " differ");
  const std::vector<float> x = scores.to_vector(), p = probs.to_vector();
  const std::vector<float> y = logits.defined() ? logits.to_vector() : std::vector<float>();
  const std::vector<float> m =
      kernels::dense_additive_mask("attention_measures", scores, mask, causal).to_vector();
  const int64_t n = scores.size(-1);
  std::vector<float> masked(static_cast<size_t>(n)), masked_logits(static_cast<size_t>(n));
  AttentionMeasures out;
  for (int64_t start = 0; start < scores.numel(); start += n) {
    double sum = 0.0;
    int64_t open_cols = 0;
    for (int64_t j = 0; j < n; ++j) {
      masked[j] = m[start + j] == -INFINITY ? -INFINITY : x[start + j];
      if (open(masked[j])) {
        sum += masked[j];
        ++open_cols;
      }
    }
    if (open_cols == 0) continue;
    const double eps = sum / static_cast<double>(open_cols);
    std::vector<double> log_phi;
    if (y.empty()) {
      log_phi = logs_of(p.data() + start, n);
    } else {
      for (int64_t j = 0; j < n; ++j) masked_logits[j] = open(masked[j]) ? y[start + j] : -INFINITY;
      log_phi = log_softmax_row(masked_logits);
    }
    const double* phi = log_phi.data();
    const double s =
        row_sparsity(masked.data(), phi, n, eps, row_log_softmax_min(masked.data(), n));
    const double mm = row_multimodality(masked.data(), phi, n, eps);
    if (!std::isnan(s)) {
      out.sparsity += s;
      ++out.sparsity_rows;
    }
    if (!std::isnan(mm)) {
      out.multimodality += mm;
      ++out.multimodality_rows;
    }
    out.support += row_support(phi, n);
    out.entropy += row_entropy(phi, n);
    ++out.rows;
  }
  if (out.sparsity_rows) out.sparsity /= static_cast<double>(out.sparsity_rows);
  if (out.multimodality_rows) out.multimodality /= static_cast<double>(out.multimodality_rows);
  if (out.rows) {
    out.support /= static_cast<double>(out.rows);
    out.entropy /= static_cast<double>(out.rows);
  }
  return out;
}

}  // namespace mmx
