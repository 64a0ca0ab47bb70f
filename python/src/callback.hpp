#pragma once
// A Python progress callback called from library code running with the GIL released
// (sleep's on_step, the audit's on_progress): the GIL is taken, Ctrl-C is let through (a
// KeyboardInterrupt, like any exception the callback raises, propagates as
// py::error_already_set and stops the library call), and the callback's truth value is
// the library callback's "stop" result.

#include <pybind11/pybind11.h>

namespace sleepnet::python {

namespace py = pybind11;

/// Calls callback(make_info()) under the GIL (nothing but the signal check when callback is
/// None); true when the callback's result is true.
template <class MakeInfo>
bool call_python_callback(const py::object& callback, MakeInfo&& make_info)
{
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (callback.is_none()) return false;
    const py::object r = callback(make_info());
    const int truth = PyObject_IsTrue(r.ptr());
    if (truth < 0) throw py::error_already_set();
    return truth == 1;
}

}  // namespace sleepnet::python
