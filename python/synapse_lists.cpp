#include "synapse_lists.hpp"

#include <cstdint>
#include <optional>

#include <fmt/format.h>

#include "apical/engine/connectivity.hpp"
#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"

namespace py = pybind11;

namespace apical::python {
namespace {

// The stream of the synapses drawn here: not one of the numbered
// projections' streams (derive_seed(seed, connectivity, k)).
constexpr std::uint64_t drawn_stream = 0x70796e6e;  // "pynn"

// The weight and delay ranges and the flags of a drawn projection.
connection_options options(double weight, std::optional<double> weight_max, double delay_ms,
                           std::optional<double> delay_max_ms, bool autapses, bool same_population,
                           bool multapses) {
  connection_options o;
  o.weight = weight_max ? value_spec::uniform(weight, *weight_max) : value_spec::constant(weight);
  o.delay_ms =
      delay_max_ms ? value_spec::uniform(delay_ms, *delay_max_ms) : value_spec::constant(delay_ms);
  o.autapses = autapses;
  o.same_population = same_population;
  o.multapses = multapses;
  return o;
}

// What `generate` draws (without the GIL), as a dict of arrays pre, post,
// weight, delay_ms.
py::dict synapse_arrays(const synapse_generator& generate) {
  std::vector<std::int64_t> pre, post;
  std::vector<double> w, d;
  {
    py::gil_scoped_release unlocked;
    generate([&](const synapse& s) {
      pre.push_back(s.pre);
      post.push_back(s.post);
      w.push_back(s.weight);
      d.push_back(s.delay_ms);
    });
  }
  const auto n = static_cast<py::ssize_t>(pre.size());
  py::dict out;
  out["pre"] = py::array_t<std::int64_t>(n, pre.data());
  out["post"] = py::array_t<std::int64_t>(n, post.data());
  out["weight"] = py::array_t<double>(n, w.data());
  out["delay_ms"] = py::array_t<double>(n, d.data());
  return out;
}

py::dict draw_synapses(const std::string& rule, std::size_t pre_size, std::size_t post_size,
                       double p, std::size_t k, double weight, std::optional<double> weight_max,
                       double delay_ms, std::optional<double> delay_max_ms, bool autapses,
                       bool same_population, bool multapses, std::uint64_t seed,
                       std::uint64_t stream_id) {
  const auto o =
      options(weight, weight_max, delay_ms, delay_max_ms, autapses, same_population, multapses);
  return synapse_arrays(make_generator(parse_connection_rule(rule), pre_size, post_size, p, k, o,
                                       derive_seed(seed, drawn_stream, stream_id)));
}

// Positions from Python: an array of shape (n, 3), converted if need be.
using position_array = py::array_t<double, py::array::c_style | py::array::forcecast>;

std::vector<position> positions_from(const position_array& a, const char* side) {
  if (a.ndim() != 2 || a.shape(1) != 3)
    throw parameter_error(fmt::format("{} positions: expected an array of shape (n, 3)", side));
  const auto v = a.unchecked<2>();
  std::vector<position> out(static_cast<std::size_t>(a.shape(0)));
  for (py::ssize_t i = 0; i < a.shape(0); ++i)
    out[static_cast<std::size_t>(i)] = {v(i, 0), v(i, 1), v(i, 2)};
  return out;
}

py::dict draw_distance_dependent(const std::string& probability, const position_array& pre,
                                 const position_array& post, const std::vector<int>& axes,
                                 const std::vector<double>& scale,
                                 const std::vector<double>& offset,
                                 const std::vector<std::optional<double>>& period, double weight,
                                 std::optional<double> weight_max, double delay_ms,
                                 std::optional<double> delay_max_ms, bool autapses,
                                 bool same_population, std::uint64_t seed,
                                 std::uint64_t stream_id) {
  metric_space space;
  space.axes = {false, false, false};
  for (int a : axes) {
    if (a < 0 || a > 2) throw parameter_error(fmt::format("space axis {}: expected 0, 1 or 2", a));
    space.axes[static_cast<std::size_t>(a)] = true;
  }
  if (scale.size() != 3 || offset.size() != 3 || period.size() != 3)
    throw parameter_error("space: scale, offset and period need one value per axis (3)");
  for (std::size_t a = 0; a < 3; ++a) {
    space.scale[a] = scale[a];
    space.offset[a] = offset[a];
    space.period[a] = period[a];
  }
  const auto pre_at = positions_from(pre, "presynaptic");
  const auto post_at = positions_from(post, "postsynaptic");
  return synapse_arrays(distance_dependent(
      pre_at, post_at, expression(probability, "d"), space,
      options(weight, weight_max, delay_ms, delay_max_ms, autapses, same_population, false),
      derive_seed(seed, drawn_stream, stream_id)));
}

}  // namespace

std::vector<synapse> synapses_from_arrays(const py::array_t<std::int64_t>& pre_ids,
                                          const py::array_t<std::int64_t>& post_ids,
                                          const py::array_t<double>& weights,
                                          const py::array_t<double>& delays_ms,
                                          std::size_t pre_size, std::size_t post_size,
                                          const std::string& where) {
  if (pre_ids.ndim() != 1 || post_ids.ndim() != 1 || weights.ndim() != 1 || delays_ms.ndim() != 1)
    throw parameter_error(where + ": pre, post, weight and delay must be 1-d arrays");
  const auto n = pre_ids.shape(0);
  const auto length_ok = [n](const auto& a) { return a.shape(0) == n || a.shape(0) == 1; };
  if (post_ids.shape(0) != n || !length_ok(weights) || !length_ok(delays_ms))
    throw parameter_error(fmt::format(
        "{}: pre ({}), post ({}), weight ({}) and delay ({}) must have one length (weight and "
        "delay may have length 1)",
        where, n, post_ids.shape(0), weights.shape(0), delays_ms.shape(0)));
  const auto a = pre_ids.unchecked<1>();
  const auto b = post_ids.unchecked<1>();
  const auto w = weights.unchecked<1>();
  const auto d = delays_ms.unchecked<1>();
  const bool one_w = weights.shape(0) == 1, one_d = delays_ms.shape(0) == 1;
  std::vector<synapse> out;
  out.reserve(static_cast<std::size_t>(n));
  for (py::ssize_t i = 0; i < n; ++i) {
    if (a(i) < 0 || static_cast<std::size_t>(a(i)) >= pre_size || b(i) < 0 ||
        static_cast<std::size_t>(b(i)) >= post_size)
      throw parameter_error(
          fmt::format("{}: synapse {} connects {} -> {}; expected 0 <= pre < {} and 0 <= post < {}",
                      where, i, a(i), b(i), pre_size, post_size));
    out.push_back({static_cast<std::uint32_t>(a(i)), static_cast<std::uint32_t>(b(i)),
                   static_cast<float>(w(one_w ? 0 : i)), d(one_d ? 0 : i)});
  }
  return out;
}

void bind_synapse_lists(py::module_& m) {
  m.def("_draw_synapses", &draw_synapses, py::arg("rule"), py::arg("pre_size"),
        py::arg("post_size"), py::kw_only(), py::arg("p") = 0.1, py::arg("k") = 0,
        py::arg("weight") = 1.0, py::arg("weight_max") = py::none(), py::arg("delay_ms") = 1.0,
        py::arg("delay_max_ms") = py::none(), py::arg("autapses") = false,
        py::arg("same_population") = false, py::arg("multapses") = false, py::arg("seed") = 1,
        py::arg("stream") = 0,
        "The synapses a connection rule draws between index ranges of pre_size and "
        "post_size neurons (a dict of arrays pre, post, weight, delay_ms), from the stream "
        "(seed, stream).");
  m.def("_draw_distance_dependent", &draw_distance_dependent, py::arg("probability"),
        py::arg("pre_positions"), py::arg("post_positions"), py::kw_only(),
        py::arg("axes") = std::vector<int>{0, 1, 2},
        py::arg("scale") = std::vector<double>{1.0, 1.0, 1.0},
        py::arg("offset") = std::vector<double>{0.0, 0.0, 0.0},
        py::arg("period") = std::vector<std::optional<double>>(3), py::arg("weight") = 1.0,
        py::arg("weight_max") = py::none(), py::arg("delay_ms") = 1.0,
        py::arg("delay_max_ms") = py::none(), py::arg("autapses") = false,
        py::arg("same_population") = false, py::arg("seed") = 1, py::arg("stream") = 0,
        "The synapses of the distance-dependent rule between neurons at pre_positions and "
        "post_positions (arrays of shape (n, 3)): each pair with the probability the "
        "expression gives for their distance d (a dict of arrays pre, post, weight, delay_ms).");
  m.def(
      "_check_expression",
      [](const std::string& text, const std::string& variable) {
        return expression(text, variable).is_boolean();
      },
      py::arg("text"), py::arg("variable") = "d",
      "Compiles an expression (raising ValueError naming the column at fault); returns "
      "whether its value is a boolean.");
}

}  // namespace apical::python
