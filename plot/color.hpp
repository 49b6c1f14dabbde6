// Colours for the plotting library: an 8-bit RGB triple, a categorical palette for series, and
// the viridis colormap for heatmaps (computed from a polynomial fit, no lookup table to vendor).
#pragma once

#include <cstdint>

namespace mmx::plot {

struct Color {
  uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const Color&, const Color&) = default;
};

namespace colors {
inline constexpr Color white{255, 255, 255};
inline constexpr Color black{0, 0, 0};
inline constexpr Color grid{225, 225, 225};   // light grid lines behind the data
inline constexpr Color axis{60, 60, 60};      // frame, ticks, tick labels
inline constexpr Color muted{120, 120, 120};  // reference lines (identity, breakpoints)
}  // namespace colors

// The i-th colour of the categorical palette (matplotlib's tab10), wrapping around: series
// get distinct, colour-blind-tolerable colours without the caller choosing them.
Color palette(int index);

// `a` mixed with `b`: t = 0 gives a, t = 1 gives b.
Color mix(Color a, Color b, double t);

// Viridis at t in [0, 1] (clamped): perceptually uniform and readable in grey-scale print.
Color viridis(double t);

}  // namespace mmx::plot
