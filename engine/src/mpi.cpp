#include "apical/engine/mpi.hpp"

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <mpi.h>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical {

namespace {
void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw std::runtime_error(fmt::format("MPI: {} failed: {}", what, std::string(text, length)));
}
}  // namespace

class mpi_session::world_comm final : public communicator {
 public:
  world_comm() {
    int r = 0, n = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    rank_ = static_cast<unsigned>(r);
    size_ = static_cast<unsigned>(n);
  }
  unsigned rank() const override { return rank_; }
  unsigned size() const override { return size_; }

  // The sizes first (8 bytes a process), then the bytes (MPI_Allgatherv).
  void all_gather(std::span<const std::byte> mine, std::vector<std::byte>& all,
                  std::vector<std::size_t>& offsets) override {
    const std::uint64_t length = mine.size();
    lengths_.resize(size_);
    check(MPI_Allgather(&length, 1, MPI_UINT64_T, lengths_.data(), 1, MPI_UINT64_T,
                        MPI_COMM_WORLD),
          "MPI_Allgather");
    offsets.assign(size_ + 1, 0);
    counts_.resize(size_);
    displacements_.resize(size_);
    for (unsigned r = 0; r < size_; ++r) {
      offsets[r + 1] = offsets[r] + lengths_[r];
      if (offsets[r + 1] > static_cast<std::uint64_t>(INT_MAX))
        throw parameter_error(fmt::format(
            "MPI: one exchange of {} bytes or more exceeds MPI's 2 GiB per call", offsets[r + 1]));
      counts_[r] = static_cast<int>(lengths_[r]);
      displacements_[r] = static_cast<int>(offsets[r]);
    }
    all.resize(offsets[size_]);
    check(MPI_Allgatherv(mine.data(), static_cast<int>(mine.size()), MPI_BYTE, all.data(),
                         counts_.data(), displacements_.data(), MPI_BYTE, MPI_COMM_WORLD),
          "MPI_Allgatherv");
  }

 private:
  unsigned rank_ = 0, size_ = 1;
  std::vector<std::uint64_t> lengths_;
  std::vector<int> counts_, displacements_;
};

mpi_session::mpi_session(int& argc, char**& argv) {
  int provided = 0;
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    throw std::runtime_error(
        "MPI: this MPI library does not support threads (MPI_THREAD_FUNNELED)");
  }
  world_ = std::make_unique<world_comm>();
}

mpi_session::~mpi_session() {
  world_.reset();
  MPI_Finalize();
}

communicator& mpi_session::world() {
  return *world_;
}

void mpi_session::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // (MPI_Abort does not return)
}

}  // namespace apical
