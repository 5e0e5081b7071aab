#pragma once
// Spike files of `apical simulate` and of the Python module: CSV (the
// default; write_spikes_csv) or SONATA (an HDF5 file, as the SONATA data
// format gives spike output):
//
//   /spikes/<population>            group, attribute sorting (HDF5 enum of
//                                   uint8: none = 0, by_id = 1, by_time = 2)
//   /spikes/<population>/timestamps float64, attribute units = "ms"
//   /spikes/<population>/node_ids   uint64, the neuron's index in its population
//
// One group per recorded population (empty datasets when it did not fire),
// its spikes sorted by time (then node id), so sorting is by_time. SONATA
// needs the HDF5 C library at build time (CMake option APICAL_HDF5).
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "apical/engine/network.hpp"
#include "apical/engine/recorders.hpp"

namespace apical::app {

enum class spikes_format { csv, sonata };

// Whether this build writes SONATA files.
bool sonata_available();
// "csv" or "sonata". Throws parameter_error naming `field` for another name,
// and for sonata in a build without HDF5.
spikes_format parse_spikes_format(std::string_view name, std::string_view field);
// The file name of the format in an output directory: spikes.csv, spikes.h5.
std::string spikes_file_name(spikes_format format);

// Writes the spikes of `populations` (ids of `net`; spikes of other
// populations are left out) as a SONATA file. Throws file_error naming the
// file when it cannot be written.
void write_spikes_sonata(const std::filesystem::path& file, const network& net,
                         std::span<const recorded_spike> spikes,
                         std::span<const std::size_t> populations);

}  // namespace apical::app
