// The paired statistics of `mmx compare` against numbers worked out independently: the t
// quantiles by Simpson integration of the t density (and the closed forms for 1 and 2 degrees of
// freedom), the intervals and sign-flip p-values by hand; then the edge cases n = 1, n = 2 and
// all-equal differences.
//
// The independent quantiles (run once with /usr/bin/python3, no scipy):
//   pdf(t, v) = Gamma((v+1)/2) / (Gamma(v/2) sqrt(v pi)) (1 + t^2/v)^(-(v+1)/2)
//   cdf(t, v) = 1/2 + Simpson's rule of pdf over [0, t], 20000 intervals; bisection on cdf = 0.975
//   v:      1          2         3         4         9         29        99
//   t:  12.706205  4.302653  3.182446  2.776445  2.262157  2.045230  1.984217
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "engine/error.hpp"
#include "nn/metrics/paired_difference.hpp"

using namespace mmx::metrics;

TEST_CASE("paired difference: the t quantile against closed forms and independent integration") {
  // One degree of freedom is the Cauchy distribution: t = tan(pi (p - 1/2)).
  CHECK(student_t_quantile(0.975, 1) == doctest::Approx(std::tan(std::numbers::pi * 0.475)));
  // Two: t = (2p - 1) sqrt(2 / (4 p (1 - p))) = 0.95 sqrt(2 / 0.0975) = 4.302653.
  CHECK(student_t_quantile(0.975, 2) ==
        doctest::Approx(0.95 * std::sqrt(2 / (4 * 0.975 * 0.025))).epsilon(1e-12));
  const std::vector<std::pair<double, double>> integrated = {
      {3, 3.182446}, {4, 2.776445}, {9, 2.262157}, {29, 2.045230}, {99, 1.984217}};
  for (const auto& [dof, t] : integrated) {
    CAPTURE(dof);
    CHECK(student_t_quantile(0.975, dof) == doctest::Approx(t).epsilon(1e-6));
  }
  // Many degrees of freedom approach the normal's 1.959964.
  CHECK(student_t_quantile(0.975, 1e6) == doctest::Approx(1.959964).epsilon(1e-5));
  // Symmetry, the median, and the CDF as the quantile's inverse.
  CHECK(student_t_quantile(0.025, 3) == doctest::Approx(-3.182446).epsilon(1e-6));
  CHECK(student_t_cdf(0, 7) == doctest::Approx(0.5));
  CHECK(student_t_cdf(student_t_quantile(0.9, 5), 5) == doctest::Approx(0.9).epsilon(1e-12));
  // I_x(1, 1) = x and I_x(a, 1) = x^a.
  CHECK(regularized_incomplete_beta(0.3, 1, 1) == doctest::Approx(0.3));
  CHECK(regularized_incomplete_beta(0.6, 3, 1) == doctest::Approx(0.216));
  CHECK_THROWS_AS(student_t_quantile(1, 3), mmx::Error);
  CHECK_THROWS_AS(regularized_incomplete_beta(1.5, 1, 1), mmx::Error);
}

TEST_CASE("paired difference: interval and sign-flip p-value worked out by hand") {
  SUBCASE("four differences 1, 2, 3, 4: all one sign") {
    // mean 2.5; sd = sqrt((1.5^2 + 0.5^2 + 0.5^2 + 1.5^2) / 3) = sqrt(5/3) = 1.2909944;
    // half width = t(0.975, 3) sd / sqrt(4) = 3.182446 * 1.2909944 / 2 = 2.0542603;
    // interval [0.4457397, 4.5542603]. Sign flips: only all-plus and all-minus reach |sum| = 10,
    // so p = 2 / 16 = 0.125 -- the smallest p four seeds can give.
    const PairedDifference p = paired_difference({11, 12, 13, 14}, {10, 10, 10, 10});
    CHECK(p.n == 4);
    CHECK(p.mean == doctest::Approx(2.5));
    CHECK(p.sd == doctest::Approx(1.2909944));
    REQUIRE(p.interval);
    CHECK(p.interval->low == doctest::Approx(0.4457397).epsilon(1e-6));
    CHECK(p.interval->high == doctest::Approx(4.5542603).epsilon(1e-6));
    CHECK(p.shows_difference());
    CHECK(p.sign_flip.exact);
    CHECK(p.sign_flip.p_value == 0.125);
  }
  SUBCASE("five differences 0.5, -0.2, 0.3, 0.1, 0.4: the interval covers 0") {
    // mean 0.22; sd = sqrt((0.28^2 + 0.42^2 + 0.08^2 + 0.12^2 + 0.18^2) / 4) = sqrt(0.308 / 4)
    // = 0.2774887; half width = 2.776445 * 0.2774887 / sqrt(5) = 0.3445478; interval
    // [-0.1245478, 0.5645478]. The observed sum is 1.1; the patterns with |sum| >= 1.1 are the
    // observed one, -0.2 flipped (1.5), -0.2 and 0.1 flipped (1.3), and their three mirror
    // images: p = 6 / 32 = 0.1875.
    const PairedDifference p = paired_difference({1.5, 0.8, 1.3, 1.1, 1.4}, {1, 1, 1, 1, 1});
    CHECK(p.mean == doctest::Approx(0.22));
    CHECK(p.sd == doctest::Approx(0.2774887));
    REQUIRE(p.interval);
    CHECK(p.interval->low == doctest::Approx(-0.1245478).epsilon(1e-6));
    CHECK(p.interval->high == doctest::Approx(0.5645478).epsilon(1e-6));
    CHECK_FALSE(p.shows_difference());
    CHECK(p.sign_flip.p_value == 0.1875);
  }
}

TEST_CASE("paired difference: one seed, two seeds, equal differences, bad input") {
  SUBCASE("n = 1: a difference, no interval, p = 1") {
    const PairedDifference p = paired_difference({2.0}, {1.5});
    CHECK(p.mean == 0.5);
    CHECK(p.sd == 0);
    CHECK_FALSE(p.interval);
    CHECK_FALSE(p.shows_difference());
    CHECK(p.sign_flip.p_value == 1);  // both patterns give |sum| = 0.5
  }
  SUBCASE("n = 2: t(0.975, 1) = 12.7062 scales the spread") {
    // d = 1, 3: mean 2, sd sqrt(2), half width 12.706205 * sqrt(2) / sqrt(2) = 12.706205.
    const PairedDifference p = paired_difference({1, 3}, {0, 0});
    REQUIRE(p.interval);
    CHECK(p.interval->low == doctest::Approx(2 - 12.706205).epsilon(1e-6));
    CHECK(p.interval->high == doctest::Approx(2 + 12.706205).epsilon(1e-6));
    CHECK(p.sign_flip.p_value == 0.5);  // (+,+) and (-,-) reach |4| of 4 patterns
  }
  SUBCASE("all differences equal") {
    // No spread: the interval is the point itself, and the p-value the smallest possible.
    const PairedDifference p = paired_difference({1.25, 2.25, 3.25}, {1, 2, 3});
    REQUIRE(p.interval);
    CHECK(p.interval->low == doctest::Approx(0.25));
    CHECK(p.interval->high == doctest::Approx(0.25));
    CHECK(p.shows_difference());
    CHECK(p.sign_flip.p_value == 0.25);
    // All zero: every pattern ties, p = 1, and the interval [0, 0] covers 0.
    const PairedDifference zero = paired_difference({0.7, 0.1, 0.3}, {0.7, 0.1, 0.3});
    CHECK(zero.sign_flip.p_value == 1);
    CHECK_FALSE(zero.shows_difference());
  }
  SUBCASE("more seeds than patterns listed: a fixed-seed sample, never 0") {
    std::vector<double> arm(24, 1.0), baseline(24, 0.0);
    const PairedDifference p = paired_difference(arm, baseline);
    CHECK_FALSE(p.sign_flip.exact);
    CHECK(p.sign_flip.p_value > 0);
    CHECK(p.sign_flip.p_value < 1e-5);  // the exact value is 2 / 2^24
    CHECK(paired_difference(arm, baseline).sign_flip.p_value == p.sign_flip.p_value);
  }
  CHECK_THROWS_WITH_AS(paired_difference({1, 2}, {1}), doctest::Contains("as many"), mmx::Error);
  CHECK_THROWS_AS(paired_difference({}, {}), mmx::Error);
}
