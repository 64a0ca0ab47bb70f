#pragma once
// The parts of sleepnet._core, one registration function per concept.

#include <pybind11/pybind11.h>

namespace sleepnet::python {

void register_errors(pybind11::module_& m);
void register_sleep(pybind11::module_& m);
void register_models(pybind11::module_& m);
void register_evaluate(pybind11::module_& m);
void register_audit(pybind11::module_& m);

}  // namespace sleepnet::python
