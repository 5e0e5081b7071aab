#pragma once
// Plastic projections in checkpoints (simulator::save, simulator::restore).
//
// A plastic projection's part of a checkpoint: its weights as the rule
// holds them (double; the network's float weights are their rounding), the
// presynaptic traces of every delay group (from a partition that owns one
// of the group's targets, whose copy is current), the postsynaptic traces
// and the counters summed over partitions. Nothing in it depends on the
// number of threads, so a run resumes on any. The network description
// names the rule and every parameter, so a checkpoint is refused by a run
// with another rule or other parameters.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "apical/engine/checkpoint.hpp"
#include "apical/learning/plasticity/plasticity.hpp"

namespace apical::learning {

class plastic_checkpoint_part final : public checkpoint_part {
 public:
  explicit plastic_checkpoint_part(plastic_projection_base& plastic) : plastic_(&plastic) {}
  ~plastic_checkpoint_part() = default;
  plastic_checkpoint_part(const plastic_checkpoint_part&) = delete;
  plastic_checkpoint_part& operator=(const plastic_checkpoint_part&) = delete;

  std::size_t checkpoint_projection() const override { return plastic_->projection_id(); }
  // "plasticity stdp_additive, tau_plus_ms=20, ..." (17 significant digits).
  std::string checkpoint_description() const override;
  void save(checkpoint_writer& w) const override { plastic_->save_state(w); }
  void load(checkpoint_reader& r) override { plastic_->load_state(r); }

 private:
  plastic_projection_base* plastic_;
};

// The parts of several plastic projections (which must outlive it), as
// simulator::save and simulator::restore take them.
class plasticity_checkpoint {
 public:
  explicit plasticity_checkpoint(
      std::span<const std::unique_ptr<plastic_projection_base>> plastic);
  std::span<checkpoint_part* const> parts() const { return pointers_; }

 private:
  std::vector<std::unique_ptr<plastic_checkpoint_part>> parts_;
  std::vector<checkpoint_part*> pointers_;
};

}  // namespace apical::learning
