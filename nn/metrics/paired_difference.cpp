#include "nn/metrics/paired_difference.hpp"

#include <cmath>

#include "engine/error.hpp"
#include "engine/random.hpp"

namespace mmx::metrics {

namespace {

// The continued fraction of I_x(a, b) (Numerical Recipes' betacf, modified Lentz), which
// converges fast for x < (a + 1) / (a + b + 2); the caller uses the symmetry otherwise.
double incomplete_beta_fraction(double x, double a, double b) {
  constexpr double kTiny = 1e-300, kEpsilon = 1e-15;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    // The even step, then the odd step of the fraction.
    const double even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 + even * d;
    c = 1 + even / c;
    if (std::abs(d) < kTiny) d = kTiny;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    const double odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + odd * d;
    c = 1 + odd / c;
    if (std::abs(d) < kTiny) d = kTiny;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1) < kEpsilon) return h;
  }
  throw Error(
      cat("regularized_incomplete_beta: no convergence at x = ", x, ", a = ", a, ", b = ", b));
}

}  // namespace

double regularized_incomplete_beta(double x, double a, double b) {
  MMX_CHECK(x >= 0 && x <= 1 && a > 0 && b > 0, "regularized_incomplete_beta: needs 0 <= x <= 1, ",
            "a > 0, b > 0; got x = ", x, ", a = ", a, ", b = ", b);
  if (x == 0 || x == 1) return x;
  // x^a (1 - x)^b / (a B(a, b)), the factor in front of the continued fraction.
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                                a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * incomplete_beta_fraction(x, a, b) / a;
  return 1 - front * incomplete_beta_fraction(1 - x, b, a) / b;
}

double student_t_cdf(double t, double dof) {
  MMX_CHECK(dof > 0, "student_t_cdf: degrees of freedom must be > 0, got ", dof);
  // P(|T| > |t|) = I_{dof / (dof + t^2)}(dof / 2, 1 / 2), split evenly between the two tails.
  const double tail = 0.5 * regularized_incomplete_beta(dof / (dof + t * t), dof / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

double student_t_quantile(double p, double dof) {
  MMX_CHECK(p > 0 && p < 1, "student_t_quantile: p must lie in (0, 1), got ", p);
  if (p < 0.5) return -student_t_quantile(1 - p, dof);
  // Widen the bracket until it holds the quantile (t = 1e4 already reaches p = 1 - 3e-5 at one
  // degree of freedom), then halve it until the ends meet in double precision.
  double low = 0, high = 1;
  while (student_t_cdf(high, dof) < p) {
    low = high;
    high *= 2;
    MMX_CHECK(high < 1e300, "student_t_quantile: no quantile for p = ", p, " at ", dof, " dof");
  }
  for (int i = 0; i < 200 && high - low > 1e-15 * high; ++i) {
    const double mid = 0.5 * (low + high);
    (student_t_cdf(mid, dof) < p ? low : high) = mid;
  }
  return 0.5 * (low + high);
}

SignFlipTest sign_flip_test(const std::vector<double>& d) {
  MMX_CHECK(!d.empty(), "sign_flip_test: no differences");
  const auto n = static_cast<int64_t>(d.size());
  double observed = 0, scale = 0;
  for (double v : d) {
    observed += v;
    scale += std::abs(v);
  }
  // Flipping signs changes the summation's rounding: a pattern within this of the observed
  // |sum| is a tie, not a less extreme pattern.
  const double tolerance = 1e-12 * scale;
  const auto at_least_as_extreme = [&](uint64_t signs) {
    double sum = 0;
    for (int64_t k = 0; k < n; ++k) sum += (signs >> k & 1) ? -d[k] : d[k];
    return std::abs(sum) >= std::abs(observed) - tolerance;
  };
  SignFlipTest test;
  if (n <= kExactSignFlipMaxN) {
    const uint64_t patterns = uint64_t{1} << n;
    uint64_t hits = 0;
    for (uint64_t signs = 0; signs < patterns; ++signs) hits += at_least_as_extreme(signs);
    test.p_value = static_cast<double>(hits) / static_cast<double>(patterns);
    return test;
  }
  // Too many patterns to list: a fixed-seed sample of them, the observed pattern counted once
  // more so that the estimate is a valid p-value (never 0).
  constexpr uint64_t kDraws = uint64_t{1} << kExactSignFlipMaxN;
  Generator gen(0x51'6E'F1'1Bull);
  uint64_t hits = 0;
  for (uint64_t i = 0; i < kDraws; ++i) {
    double sum = 0;
    for (int64_t k = 0; k < n; ++k) sum += (gen.next_u64() & 1) ? -d[k] : d[k];
    hits += std::abs(sum) >= std::abs(observed) - tolerance;
  }
  test.p_value = static_cast<double>(hits + 1) / static_cast<double>(kDraws + 1);
  test.exact = false;
  return test;
}

PairedDifference paired_difference(const std::vector<double>& arm,
                                   const std::vector<double>& baseline, double level) {
  MMX_CHECK(!arm.empty() && arm.size() == baseline.size(), "paired_difference: needs as many ",
            "arm values as baseline values, at least one; got ", arm.size(), " and ",
            baseline.size());
  MMX_CHECK(level > 0 && level < 1, "paired_difference: level must lie in (0, 1), got ", level);
  PairedDifference p;
  p.n = std::ssize(arm);
  p.level = level;
  std::vector<double> d;
  for (size_t k = 0; k < arm.size(); ++k) d.push_back(arm[k] - baseline[k]);
  const auto n = static_cast<double>(p.n);
  for (double v : d) p.mean += v / n;
  p.sign_flip = sign_flip_test(d);
  if (p.n == 1) return p;
  double squares = 0;
  for (double v : d) squares += (v - p.mean) * (v - p.mean);
  p.sd = std::sqrt(squares / (n - 1));
  const double half_width = student_t_quantile(1 - (1 - level) / 2, n - 1) * p.sd / std::sqrt(n);
  p.interval = Interval{p.mean - half_width, p.mean + half_width};
  return p;
}

}  // namespace mmx::metrics
