#include "apical/learning/plasticity/weight_recorder.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::learning {

namespace {
using change_slot = plastic_projection_base::weight_change_signal::slot;
}

weight_recorder::weight_recorder(plastic_projection_base& plastic, time_ms interval,
                                 std::vector<std::uint64_t> synapses)
    : plastic_(&plastic),
      interval_ms_(interval.count()),
      start_ms_(plastic.sim().now().count()),
      synapses_(std::move(synapses)) {
  if (!(interval_ms_ >= 0.0) || !std::isfinite(interval_ms_))
    throw parameter_error(fmt::format(
        "weight_recorder: interval must be finite and >= 0 ms (0: every change), got {}",
        interval_ms_));
  const std::size_t n = plastic.proj().size();
  if (synapses_.empty())
    for (std::uint64_t k = 0; k < n; ++k) synapses_.push_back(k);
  position_.assign(n, 0);
  for (std::size_t i = 0; i < synapses_.size(); ++i) {
    const auto k = synapses_[i];
    if (k >= n)
      throw parameter_error(
          fmt::format("weight_recorder: synapse {} out of range [0, {}) of projection '{}'", k, n,
                      plastic.proj().name()));
    if (position_[k] != 0)
      throw parameter_error(
          fmt::format("weight_recorder: synapse {} is selected twice; expected once", k));
    position_[k] = static_cast<std::uint32_t>(i + 1);
  }
  parts_.resize(plastic.sim().partitions());
  next_sample_.assign(synapses_.size(), 1);
  const auto w = plastic.weights();
  for (const auto k : synapses_) {
    auto& b = parts_[plastic.owner_of(k)];
    b.mine.push_back(k);
    b.samples.push_back({start_ms_, k, w[k]});
  }
  plastic_->on_weight_change().connect(change_slot::bind<&weight_recorder::on_change>(*this));
}

weight_recorder::~weight_recorder() {
  plastic_->on_weight_change().disconnect(change_slot::bind<&weight_recorder::on_change>(*this));
}

void weight_recorder::take_due(partition_buffer& b, std::uint64_t k, double weight, double t_ms) {
  // Sample times are computed from their index, not accumulated, so they
  // do not drift.
  auto& next = next_sample_[position_[k] - 1];
  for (double s = start_ms_ + static_cast<double>(next) * interval_ms_; s <= t_ms;
       s = start_ms_ + static_cast<double>(next) * interval_ms_) {
    b.samples.push_back({s, k, weight});
    ++next;
  }
}

void weight_recorder::flush(time_ms t) {
  if (interval_ms_ == 0.0) return;
  const auto w = plastic_->weights();  // (its changes before now come first)
  for (auto& b : parts_)
    for (const auto k : b.mine) take_due(b, k, w[k], t.count());
}

void weight_recorder::on_change(const weight_change& c) {
  // On the thread of the partition owning the synapse during a run; on the
  // caller's between runs (a plastic projection bringing its weights up to
  // date), into the owner's buffer either way.
  if (position_[c.synapse] == 0) return;
  auto& b = parts_[plastic_->owner_of(c.synapse)];
  if (interval_ms_ > 0.0) {
    // The samples due at or before the change hold the weight before it.
    take_due(b, c.synapse, c.before, c.time.count());
  } else {
    b.samples.push_back({c.time.count(), c.synapse, c.after});
  }
}

const std::vector<weight_sample>& weight_recorder::samples() const {
  plastic_->sync();  // (changes that waited for their synapses are recorded first)
  merged_.clear();
  for (const auto& b : parts_) merged_.insert(merged_.end(), b.samples.begin(), b.samples.end());
  std::stable_sort(merged_.begin(), merged_.end(),
                   [this](const weight_sample& a, const weight_sample& b) {
                     if (a.time_ms != b.time_ms) return a.time_ms < b.time_ms;
                     return position_[a.synapse] < position_[b.synapse];
                   });
  return merged_;
}

void write_weights_csv(const std::filesystem::path& file, const weight_recorder& recorder) {
  struct closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, closer> f(std::fopen(file.c_str(), "w"));
  if (!f)
    throw file_error(
        fmt::format("{}: cannot open for writing: {}", file.string(), std::strerror(errno)));
  const auto& proj = recorder.plastic().proj();
  fmt::print(f.get(), "time_ms,projection,synapse,pre,post,weight\n");
  for (const auto& s : recorder.samples())
    fmt::print(f.get(), "{:.17g},{},{},{},{},{:.17g}\n", s.time_ms, proj.name(), s.synapse,
               proj.pre_of(s.synapse), proj.targets()[s.synapse], s.weight);
  if (std::fflush(f.get()) != 0 || std::ferror(f.get()))
    throw file_error(fmt::format("{}: write failed: {}", file.string(), std::strerror(errno)));
}

}  // namespace apical::learning
