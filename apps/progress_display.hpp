#pragma once
// What `apical train` and `apical evaluate` show while they work. On a
// terminal: one line on stderr, redrawn a few times a second (samples done,
// samples/s, running accuracy, ETA). Not on a terminal (a log file): the
// same as a plain line once a minute, so that a long run shows it is alive
// and when it will end, and a short one logs only the summary lines the
// commands print themselves.
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace apical::app {

// "42s", "3m07s", "1h05m"; "?" for a negative or non-finite count.
std::string duration_text(double seconds);

class progress_display {
 public:
  // `epochs` training epochs of `samples` samples each (0 epochs: an
  // evaluation only).
  progress_display(std::size_t epochs, std::size_t samples);

  // Training epoch `epoch` (1-based) starts; update() reports its samples,
  // with an ETA for the rest of the run.
  void begin_epoch(std::size_t epoch);
  void update(std::size_t done, std::size_t correct);

  // An evaluation of `samples` samples starts (after the epoch's training,
  // or on its own); update_test() reports it, with an ETA for the test.
  void begin_test(std::size_t samples);
  void update_test(std::size_t done, std::size_t correct);
  // begin_test(samples), and a callback that forwards to update_test (for
  // train_model::evaluate / predict).
  std::function<void(std::size_t, std::size_t)> testing(std::size_t samples);

  // Erases the line (before the caller prints a summary on stdout).
  void clear();

 private:
  bool due(std::size_t done, std::size_t total);
  void draw(const std::string& what, std::size_t done, std::size_t total, std::size_t correct,
            double samples_left);

  // Where the line goes: nowhere (not the root process), a terminal
  // (redrawn), or a log (plain lines, once a minute).
  enum class output { none, terminal, log } out_;
  std::size_t epochs_, samples_;
  std::size_t epoch_ = 0, test_samples_ = 0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace apical::app
