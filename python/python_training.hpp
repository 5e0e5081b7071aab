#pragma once
// apical.train(): the training of `apical train` from Python.
#include <pybind11/pybind11.h>

namespace apical::python {

void bind_training(pybind11::module_& m);

}  // namespace apical::python
