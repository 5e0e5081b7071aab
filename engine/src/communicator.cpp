#include "apical/engine/communicator.hpp"

#include <algorithm>
#include <barrier>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical {

neuron_block rank_block(std::size_t n, unsigned ranks, unsigned rank) {
  const std::size_t per = ranks == 0 ? n : (n + ranks - 1) / ranks;
  const auto begin = static_cast<std::uint32_t>(std::min(n, per * rank));
  const auto end = static_cast<std::uint32_t>(std::min(n, per * (rank + std::size_t{1})));
  return {begin, end};
}

unsigned rank_of(std::size_t n, unsigned ranks, std::uint32_t i) {
  const std::size_t per = std::max<std::size_t>(1, (n + ranks - 1) / ranks);
  return static_cast<unsigned>(i / per);
}

unsigned launched_processes() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* v = std::getenv(name); v != nullptr) {
      const long n = std::strtol(v, nullptr, 10);
      if (n >= 1) return static_cast<unsigned>(n);
    }
  return 1;
}

std::uint64_t communicator::all_sum(std::uint64_t value) {
  std::uint64_t sum = 0;
  for (const auto v : all_values(value)) sum += v;
  return sum;
}

double communicator::all_min(double value) {
  const auto all = all_values(value);
  return *std::min_element(all.begin(), all.end());
}

// ---------------------------------------------------------------------------
// local_group: ranks as threads, exchanging through shared memory.

struct local_group::shared {
  explicit shared(unsigned n) : ranks(n), sync(n), slots(n) {}
  unsigned ranks;
  std::barrier<> sync;
  std::vector<std::vector<std::byte>> slots;  // each rank's contribution
};

class local_group::member_comm final : public communicator {
 public:
  member_comm(shared& s, unsigned rank) : s_(&s), rank_(rank) {}
  unsigned rank() const override { return rank_; }
  unsigned size() const override { return s_->ranks; }
  void all_gather(std::span<const std::byte> mine, std::vector<std::byte>& all,
                  std::vector<std::size_t>& offsets) override {
    s_->slots[rank_].assign(mine.begin(), mine.end());
    s_->sync.arrive_and_wait();  // every slot written
    all.clear();
    offsets.assign(1, 0);
    for (const auto& slot : s_->slots) {
      all.insert(all.end(), slot.begin(), slot.end());
      offsets.push_back(all.size());
    }
    s_->sync.arrive_and_wait();  // every slot read: they may be written again
  }

 private:
  shared* s_;
  unsigned rank_;
};

local_group::local_group(unsigned ranks) {
  if (ranks == 0) throw parameter_error("local_group: ranks must be >= 1, got 0");
  shared_ = std::make_unique<shared>(ranks);
  for (unsigned r = 0; r < ranks; ++r) members_.push_back(std::make_unique<member_comm>(*shared_, r));
}

local_group::~local_group() = default;

communicator& local_group::member(unsigned rank) {
  if (rank >= members_.size())
    throw parameter_error(
        fmt::format("local_group: rank {} out of range [0, {})", rank, members_.size()));
  return *members_[rank];
}

unsigned local_group::size() const {
  return static_cast<unsigned>(members_.size());
}

}  // namespace apical
