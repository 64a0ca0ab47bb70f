// sleepnet._core: the compiled part of the Python package `sleepnet` (see python/sleepnet).
#include "module.hpp"

#include <sleepnet/core/error.hpp>

PYBIND11_MODULE(_core, m)
{
    m.doc() = "sleepnet compiled core; use the package `sleepnet`";
    sleepnet::python::register_errors(m);
    sleepnet::python::register_sleep(m);
    sleepnet::python::register_models(m);
    sleepnet::python::register_evaluate(m);
    sleepnet::python::register_audit(m);
}

namespace sleepnet::python {

/// The library's exceptions as Python exceptions with the same messages: sleepnet.Error
/// (a RuntimeError) and its subclasses, each also a subclass of the matching built-in.
void register_errors(pybind11::module_& m)
{
    namespace py = pybind11;
    auto& base = py::register_exception<sleepnet::error>(m, "Error", PyExc_RuntimeError);
    auto& invalid = py::register_exception<sleepnet::invalid_argument>(
        m, "InvalidArgument", py::make_tuple(base, py::handle(PyExc_ValueError)));
    auto& io =
        py::register_exception<sleepnet::io_error>(m, "IoError", py::make_tuple(base, py::handle(PyExc_OSError)));
    auto& format = py::register_exception<sleepnet::format_error>(m, "FormatError",
                                                                  py::make_tuple(base, py::handle(PyExc_ValueError)));
    auto& numeric = py::register_exception<sleepnet::numeric_error>(
        m, "NumericError", py::make_tuple(base, py::handle(PyExc_ArithmeticError)));
    // The package re-exports them: tracebacks and repr() say sleepnet.InvalidArgument.
    for (py::handle e :
         {py::handle(base), py::handle(invalid), py::handle(io), py::handle(format), py::handle(numeric)})
        e.attr("__module__") = "sleepnet";
}

}  // namespace sleepnet::python
