#pragma once
// FNV-1a, 64 bits: the checksum of training checkpoints and rate-network
// files, the identity hash of a training configuration and the hash of
// `apical simulate`'s growing spike file. (Simulation checkpoints, tens of
// megabytes, use engine/checkpoint.hpp's word-wise checkpoint_checksum.)
// It detects corruption, not tampering.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace apical::learning {

inline constexpr std::uint64_t fnv1a_basis = 0xcbf29ce484222325ULL;

// Continues the hash h over `bytes` (start with fnv1a_basis).
constexpr std::uint64_t fnv1a(std::string_view bytes, std::uint64_t h = fnv1a_basis) {
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace apical::learning
