#pragma once
// Synapses as numpy arrays, for the PyNN backend (apical.pynn): connection
// rules drawn by apical's C++ rules over index ranges that the backend maps
// onto parts of populations, and lists of synapses it passes in.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "apical/engine/projection.hpp"

namespace apical::python {

// The synapses of pre_ids[i] -> post_ids[i] with weights[i], delays_ms[i]
// (arrays of one length; a length-1 weight or delay array is shared by all),
// checked against the population sizes; `where` names the call in errors.
std::vector<synapse> synapses_from_arrays(const pybind11::array_t<std::int64_t>& pre_ids,
                                          const pybind11::array_t<std::int64_t>& post_ids,
                                          const pybind11::array_t<double>& weights,
                                          const pybind11::array_t<double>& delays_ms,
                                          std::size_t pre_size, std::size_t post_size,
                                          const std::string& where);

// apical._draw_synapses(rule, pre_size, post_size, ...): the synapses a rule
// of connectivity.hpp draws, as a dict of arrays pre, post, weight, delay_ms.
void bind_synapse_lists(pybind11::module_& m);

}  // namespace apical::python
