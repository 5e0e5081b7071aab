#include "spike_files.hpp"

#include <cstdint>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

#ifdef APICAL_WITH_HDF5
#include <hdf5.h>
#endif

namespace apical::app {

bool sonata_available() {
#ifdef APICAL_WITH_HDF5
  return true;
#else
  return false;
#endif
}

spikes_format parse_spikes_format(std::string_view name, std::string_view field) {
  if (name == "csv") return spikes_format::csv;
  if (name == "sonata") {
    if (!sonata_available())
      throw parameter_error(fmt::format(
          "{}: 'sonata' needs HDF5, and this build of apical has none (apt-get install "
          "libhdf5-dev, then configure again with -DAPICAL_HDF5=ON)",
          field));
    return spikes_format::sonata;
  }
  throw parameter_error(fmt::format("{}: '{}': expected csv or sonata", field, name));
}

std::string spikes_file_name(spikes_format format) {
  return format == spikes_format::csv ? "spikes.csv" : "spikes.h5";
}

#ifdef APICAL_WITH_HDF5
namespace {

// An HDF5 identifier closed by `close` when it goes out of scope; a negative
// identifier (a failed call) is an error naming the file and the step.
class handle {
 public:
  handle(hid_t id, herr_t (*close)(hid_t), const std::string& file, std::string_view what)
      : id_(id), close_(close) {
    if (id_ < 0) throw file_error(fmt::format("{}: HDF5 could not {}", file, what));
  }
  ~handle() { close_(id_); }
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  hid_t get() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

void check(herr_t status, const std::string& file, std::string_view what) {
  if (status < 0) throw file_error(fmt::format("{}: HDF5 could not {}", file, what));
}

// A one-dimensional dataset, with a units attribute when `units` is given.
template <class T>
void write_dataset(hid_t group, const char* name, hid_t type, const std::vector<T>& values,
                   const char* units, const std::string& file) {
  const hsize_t n = values.size();
  const handle space(H5Screate_simple(1, &n, nullptr), H5Sclose, file, "make a dataspace");
  const handle set(H5Dcreate2(group, name, type, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                              H5P_DEFAULT),
                   H5Dclose, file, fmt::format("create dataset {}", name));
  if (n > 0)
    check(H5Dwrite(set.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), file,
          fmt::format("write dataset {}", name));
  if (units != nullptr) {
    const handle str(H5Tcopy(H5T_C_S1), H5Tclose, file, "make a string type");
    check(H5Tset_size(str.get(), std::string_view(units).size()), file, "size a string type");
    const handle scalar(H5Screate(H5S_SCALAR), H5Sclose, file, "make a dataspace");
    const handle attr(H5Acreate2(set.get(), "units", str.get(), scalar.get(), H5P_DEFAULT,
                                  H5P_DEFAULT),
                       H5Aclose, file, "create attribute units");
    check(H5Awrite(attr.get(), str.get(), units), file, "write attribute units");
  }
}

// sorting = by_time on a population group, as the enum SONATA defines.
void write_sorting(hid_t group, const std::string& file) {
  const handle type(H5Tenum_create(H5T_NATIVE_UINT8), H5Tclose, file, "make the sorting enum");
  const std::uint8_t none = 0, by_id = 1, by_time = 2;
  check(H5Tenum_insert(type.get(), "none", &none), file, "make the sorting enum");
  check(H5Tenum_insert(type.get(), "by_id", &by_id), file, "make the sorting enum");
  check(H5Tenum_insert(type.get(), "by_time", &by_time), file, "make the sorting enum");
  const handle scalar(H5Screate(H5S_SCALAR), H5Sclose, file, "make a dataspace");
  const handle attr(
      H5Acreate2(group, "sorting", type.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose, file, "create attribute sorting");
  check(H5Awrite(attr.get(), type.get(), &by_time), file, "write attribute sorting");
}

}  // namespace

void write_spikes_sonata(const std::filesystem::path& file, const network& net,
                         std::span<const recorded_spike> spikes,
                         std::span<const std::size_t> populations) {
  const std::string name = file.string();
  // Written next to the target and renamed, so a reader never sees half a file.
  const std::string tmp = name + ".tmp";
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // failures are reported as file_error
  {
    const handle f(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
                   tmp, "create the file");
    const handle root(H5Gcreate2(f.get(), "spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                      H5Gclose, tmp, "create group /spikes");
    for (const std::size_t p : populations) {
      std::vector<double> times;
      std::vector<std::uint64_t> ids;
      for (const auto& s : spikes)
        if (s.population == p) {
          times.push_back(s.time_ms);
          ids.push_back(s.neuron);
        }
      const auto& pop_name = net.pop(p).name();
      const handle group(
          H5Gcreate2(root.get(), pop_name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
          H5Gclose, tmp, fmt::format("create group /spikes/{}", pop_name));
      write_sorting(group.get(), tmp);
      write_dataset(group.get(), "timestamps", H5T_NATIVE_DOUBLE, times, "ms", tmp);
      write_dataset(group.get(), "node_ids", H5T_NATIVE_UINT64, ids, nullptr, tmp);
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) throw file_error(fmt::format("{}: cannot be written: {}", name, ec.message()));
}
#else
void write_spikes_sonata(const std::filesystem::path&, const network&,
                         std::span<const recorded_spike>, std::span<const std::size_t>) {
  parse_spikes_format("sonata", "spike file");
}
#endif

}  // namespace apical::app
