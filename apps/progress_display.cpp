#include "progress_display.hpp"
#include "processes.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace apical::app {

std::string duration_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto total = static_cast<long long>(std::llround(s));
  if (total >= 3600) return fmt::format("{}h{:02}m", total / 3600, total / 60 % 60);
  if (total >= 60) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}s", total);
}

progress_display::progress_display(std::size_t epochs, std::size_t samples)
    : out_(!is_root()                   ? output::none
           : isatty(STDERR_FILENO) != 0 ? output::terminal
                                        : output::log),
      epochs_(epochs),
      samples_(samples) {}

void progress_display::begin_epoch(std::size_t epoch) {
  epoch_ = epoch;
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

void progress_display::update(std::size_t done, std::size_t correct) {
  if (!due(done, samples_)) return;
  // This epoch's rest and the epochs after it, at this epoch's rate.
  const double left = static_cast<double>(samples_ - std::min(done, samples_)) +
                      static_cast<double>(samples_) * static_cast<double>(epochs_ - epoch_);
  draw(fmt::format("epoch {}/{}", epoch_, epochs_), done, samples_, correct, left);
}

void progress_display::begin_test(std::size_t samples) {
  test_samples_ = samples;
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

std::function<void(std::size_t, std::size_t)> progress_display::testing(std::size_t samples) {
  begin_test(samples);
  return [this](std::size_t done, std::size_t correct) { update_test(done, correct); };
}

void progress_display::update_test(std::size_t done, std::size_t correct) {
  if (!due(done, test_samples_)) return;
  const std::string what = epochs_ == 0  ? std::string("evaluating")
                           : epoch_ == 0 ? std::string("testing before training")
                                         : fmt::format("epoch {}/{} testing", epoch_, epochs_);
  draw(what, done, test_samples_, correct,
       static_cast<double>(test_samples_ - std::min(done, test_samples_)));
}

void progress_display::clear() {
  if (!drawn_) return;
  fmt::print(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

bool progress_display::due(std::size_t done, std::size_t total) {
  const auto now = std::chrono::steady_clock::now();
  const auto since = now - last_draw_;
  bool draw = false;
  switch (out_) {
    case output::terminal:
      draw = done >= total || since >= std::chrono::milliseconds(150);
      break;
    case output::log:  // (the end of an epoch or test has its own summary line)
      draw = done < total && since >= std::chrono::minutes(1);
      break;
    case output::none:
      break;
  }
  if (draw) last_draw_ = now;
  return draw;
}

void progress_display::draw(const std::string& what, std::size_t done, std::size_t total,
                            std::size_t correct, double samples_left) {
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = wall > 0 ? static_cast<double>(done) / wall : 0.0;
  fmt::print(stderr, "{}{}  {}/{}  {:.0f} samples/s  running accuracy {:.2f}%  ETA {}{}",
             out_ == output::terminal ? "\r\033[K" : "", what, done, total, rate,
             done ? 100.0 * static_cast<double>(correct) / static_cast<double>(done) : 0.0,
             rate > 0 ? duration_text(samples_left / rate) : "?",
             out_ == output::terminal ? "" : "\n");
  std::fflush(stderr);
  drawn_ = out_ == output::terminal;
}

}  // namespace apical::app
