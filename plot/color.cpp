#include "plot/color.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace mmx::plot {

Color palette(int index) {
  static constexpr std::array<Color, 10> tab10{{{31, 119, 180},
                                                {255, 127, 14},
                                                {44, 160, 44},
                                                {214, 39, 40},
                                                {148, 103, 189},
                                                {140, 86, 75},
                                                {227, 119, 194},
                                                {127, 127, 127},
                                                {188, 189, 34},
                                                {23, 190, 207}}};
  const int n = static_cast<int>(tab10.size());
  return tab10[static_cast<size_t>(((index % n) + n) % n)];
}

namespace {
uint8_t to_byte(double v) {
  return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
}
}  // namespace

Color mix(Color a, Color b, double t) {
  t = std::clamp(t, 0.0, 1.0);
  auto channel = [t](uint8_t x, uint8_t y) {
    return static_cast<uint8_t>(std::lround(x + (static_cast<double>(y) - x) * t));
  };
  return {channel(a.r, b.r), channel(a.g, b.g), channel(a.b, b.b)};
}

Color viridis(double t) {
  // Degree-6 least-squares fit of matplotlib's viridis table (Matt Zucker's fit); each channel
  // stays within ~1.5% of the table, well below what the eye separates on a heatmap.
  static constexpr double c[7][3] = {{0.2777273272234177, 0.005407344544966578, 0.3340998053353061},
                                     {0.1050930431085774, 1.404613529898575, 1.384590162594685},
                                     {-0.3308618287255563, 0.214847559468213, 0.09509516302823659},
                                     {-4.634230498983486, -5.799100973351585, -19.33244095627987},
                                     {6.228269936347081, 14.17993336680509, 56.69055260068105},
                                     {4.776384997670288, -13.74514537774601, -65.35303263337234},
                                     {-5.435455855934631, 4.645852612178535, 26.3124352495832}};
  if (std::isnan(t)) t = 0.0;
  t = std::clamp(t, 0.0, 1.0);
  double rgb[3];
  for (int ch = 0; ch < 3; ++ch) {
    double v = c[6][ch];
    for (int k = 5; k >= 0; --k) v = v * t + c[k][ch];  // Horner
    rgb[ch] = v;
  }
  return {to_byte(rgb[0]), to_byte(rgb[1]), to_byte(rgb[2])};
}

}  // namespace mmx::plot
