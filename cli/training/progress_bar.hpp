// ProgressBar: one line on stderr with a bar, the step, the caller's figures (loss ...), the rate
// and the ETA. On a terminal it redraws in place a few times a second; in a log (not a tty) it
// prints a plain line every 10% so CI output stays short.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace mmx::cli {

class ProgressBar {
 public:
  // `unit` names what the rate counts ("tok" gives "12.3k tok/s"); `units_per_step` converts.
  ProgressBar(std::string label, int64_t total_steps, int64_t first_step, double units_per_step,
              std::string unit);
  // `figures` is free text such as "loss 2.314".
  void update(int64_t step, const std::string& figures);
  // Prints a message on its own line without breaking the bar.
  void message(const std::string& text);
  void finish();

 private:
  void draw(int64_t step, bool final_line);

  std::string label_, unit_, figures_;
  int64_t total_, first_, last_step_;
  double units_per_step_;
  bool tty_;
  int64_t last_reported_decile_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "1m05s", "42s", "2h03m".
std::string format_duration(double seconds);
// "950", "12.3k", "4.56M".
std::string format_rate(double value);

}  // namespace mmx::cli
