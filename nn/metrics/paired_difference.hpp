/// \file
/// Paired differences over seeds: how sure one can be that an arm (a normalizer) differs from a
/// baseline (SoftMax) when both were trained with the same seeds. Seed k gives both runs the
/// same initial weights and data order, so d_k = arm_k - baseline_k removes what the seed alone
/// does, and the question is whether the d_k are centred away from 0. Two answers:
///
///  - a confidence interval for the mean difference from Student's t distribution with n - 1
///    degrees of freedom, mean(d) ± t(1 - alpha/2, n - 1) sd(d) / sqrt(n);
///  - the exact sign-flip permutation p-value: if the arm made no difference, each d_k would be
///    as likely to come out with the other sign, so the p-value is the share of the 2^n sign
///    patterns whose |sum| is at least the observed |sum| (two-sided).
///
/// The t quantile is computed, not tabulated: the t CDF comes from the regularized incomplete
/// beta function (a continued fraction), and the quantile from bisection on that CDF. Everything
/// here is written for reading, not speed: n is the number of seeds.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace mmx::metrics {

/// I_x(a, b), the regularized incomplete beta function, for 0 <= x <= 1 and a, b > 0.
double regularized_incomplete_beta(double x, double a, double b);
/// P(T <= t) for Student's t with `dof` > 0 degrees of freedom.
double student_t_cdf(double t, double dof);
/// The t with P(T <= t) = p, for 0 < p < 1, by bisection on student_t_cdf.
double student_t_quantile(double p, double dof);

/// Sign patterns above which sign_flip_p_value samples instead of enumerating: 2^20 patterns,
/// n = 20 seeds.
inline constexpr int64_t kExactSignFlipMaxN = 20;

/// The two-sided sign-flip permutation p-value of paired differences `d`.
struct SignFlipTest {
  /// share of sign patterns with |sum s_k d_k| >= |sum d_k|
  double p_value = 1;
  /// true: all 2^n patterns (n <= kExactSignFlipMaxN); false: 2^20 random patterns from a fixed
  /// seed, p = (1 + hits) / (1 + 2^20), which never reports 0
  bool exact = true;
};
/// The test of `d` (non-empty). Ties (a pattern whose |sum| equals the observed one up to
/// rounding) count as at least as extreme, so all-zero differences give p = 1.
SignFlipTest sign_flip_test(const std::vector<double>& d);

/// A confidence interval [low, high].
struct Interval {
  double low = 0;   ///< lower end
  double high = 0;  ///< upper end
  /// low <= 0 <= high
  bool covers_zero() const { return low <= 0 && 0 <= high; }
};

/// The paired comparison of one arm with the baseline over n seeds.
struct PairedDifference {
  int64_t n = 0;     ///< seeds (pairs)
  double mean = 0;   ///< mean of arm - baseline
  double sd = 0;     ///< sample standard deviation of the differences (n - 1); 0 for n = 1
  double level = 0;  ///< the interval's confidence level, e.g. 0.95
  /// mean ± t(1 - (1 - level)/2, n - 1) sd / sqrt(n); none for n = 1 (no spread to scale)
  std::optional<Interval> interval;
  SignFlipTest sign_flip;  ///< the permutation p-value
  /// An interval exists and excludes 0: these runs show a difference at this level.
  bool shows_difference() const { return interval && !interval->covers_zero(); }
};
/// arm[k] - baseline[k] for every seed k; both the same non-zero length (an mmx::Error
/// otherwise), `level` in (0, 1).
PairedDifference paired_difference(const std::vector<double>& arm,
                                   const std::vector<double>& baseline, double level = 0.95);

}  // namespace mmx::metrics
