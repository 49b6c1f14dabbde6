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

double row_multimodality(const float* x, const float* phi, int64_t n, double eps) {
  double top_x = -INFINITY, top_phi = -INFINITY;
  for (int64_t j = 0; j < n; ++j)
    if (open(x[j])) {
      top_x = std::max(top_x, static_cast<double>(x[j]));
      top_phi = std::max(top_phi, static_cast<double>(phi[j]));
    }
  double gaps = 0.0;
  int64_t terms = 0;
  for (int64_t j = 0; j < n; ++j)
    if (open(x[j]) && eps < x[j] && x[j] < top_x) {
      gaps += top_phi - phi[j];
      ++terms;
    }
  return terms ? 1.0 - gaps / static_cast<double>(terms) : std::nan("");
}

double row_softmax_min(const float* x, int64_t n) {
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
  return std::exp(low - top) / total;
}

double row_sparsity(const float* x, const float* phi, int64_t n, double eps, double s) {
  s = std::max(s, std::numeric_limits<double>::min());
  double total = 0.0;
  int64_t terms = 0;
  for (int64_t j = 0; j < n; ++j)
    if (open(x[j]) && x[j] < eps) {
      total += std::exp((s - phi[j]) / s - 1.0);
      ++terms;
    }
  return terms ? total / static_cast<double>(terms) : std::nan("");
}

double row_support(const float* phi, int64_t n) {
  return static_cast<double>(std::count_if(phi, phi + n, [](float p) { return p != 0.0f; }));
}

double row_entropy(const float* phi, int64_t n) {
  double h = 0.0;
  for (int64_t j = 0; j < n; ++j)
    if (phi[j] > 0.0f) h -= phi[j] * std::log(static_cast<double>(phi[j]));
  return h;
}

Shape row_shape(const Tensor& t) {
  return Shape(t.shape().begin(), t.shape().end() - 1);
}

// Applies fn(row index, x row, phi row, n) to every row; the result has one value per row.
Tensor per_row(const char* op, const Tensor& x, const Tensor& phi,
               const std::function<double(int64_t, const float*, const float*, int64_t)>& fn) {
  MMX_CHECK(x.defined() && x.dim() >= 1, op, ": needs a scores tensor with at least one axis");
  MMX_CHECK(!phi.defined() || phi.shape() == x.shape(), op, ": scores of shape ",
            to_string(x.shape()), " and distribution of shape ", to_string(phi.shape()), " differ");
  const std::vector<float> xv = x.to_vector();
  const std::vector<float> pv = phi.defined() ? phi.to_vector() : xv;
  const int64_t n = x.size(-1);
  Tensor out = Tensor::zeros(row_shape(x));
  for (int64_t row = 0; row < out.numel(); ++row)
    out.data()[row] = static_cast<float>(fn(row, xv.data() + row * n, pv.data() + row * n, n));
  return out;
}

}  // namespace

Tensor multimodality(const Tensor& x, const Tensor& phi, float eps) {
  return per_row("multimodality", x, phi,
                 [eps](int64_t, const float* xr, const float* pr, int64_t n) {
                   return row_multimodality(xr, pr, n, eps);
                 });
}

Tensor softmax_min_probability(const Tensor& x) {
  return per_row(
      "softmax_min_probability", x, Tensor(),
      [](int64_t, const float* xr, const float*, int64_t n) { return row_softmax_min(xr, n); });
}

Tensor sparsity(const Tensor& x, const Tensor& phi, float eps, const Tensor& reference) {
  std::vector<float> s;
  if (reference.defined()) {
    MMX_CHECK(reference.numel() == 1 || reference.shape() == row_shape(x),
              "sparsity: reference of shape ", to_string(reference.shape()),
              " is neither one value nor one per row of scores ", to_string(x.shape()));
    s = reference.to_vector();
  }
  return per_row("sparsity", x, phi, [&](int64_t row, const float* xr, const float* pr, int64_t n) {
    const double ref = s.empty() ? row_softmax_min(xr, n) : s[s.size() == 1 ? 0 : row];
    return row_sparsity(xr, pr, n, eps, ref);
  });
}

Tensor support_size(const Tensor& phi) {
  return per_row("support_size", phi, phi, [](int64_t, const float*, const float* pr, int64_t n) {
    return row_support(pr, n);
  });
}

Tensor entropy(const Tensor& phi) {
  return per_row("entropy", phi, phi, [](int64_t, const float*, const float* pr, int64_t n) {
    return row_entropy(pr, n);
  });
}

AttentionMeasures attention_measures(const Tensor& scores, const Tensor& probs, const Tensor& mask,
                                     bool causal) {
  MMX_CHECK(probs.defined() && probs.shape() == scores.shape(),
            "attention_measures: scores of shape ", to_string(scores.shape()),
            " and probabilities of shape ", to_string(probs.defined() ? probs.shape() : Shape{}),
            " differ");
  const std::vector<float> x = scores.to_vector(), p = probs.to_vector();
  const std::vector<float> m =
      kernels::dense_additive_mask("attention_measures", scores, mask, causal).to_vector();
  const int64_t n = scores.size(-1);
  std::vector<float> masked(static_cast<size_t>(n));
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
    const float* phi = p.data() + start;
    const double s = row_sparsity(masked.data(), phi, n, eps, row_softmax_min(masked.data(), n));
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
