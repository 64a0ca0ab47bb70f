#pragma once
// Conversions between Python objects and the library's types: JSON values <-> Python
// values (dicts, lists, numbers, strings), numpy arrays -> matrices (read-only inputs,
// converted and copied), matrices -> numpy arrays (copies owned by Python).

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <sleepnet/core/error.hpp>
#include <sleepnet/core/tensor.hpp>

namespace sleepnet::python {

namespace py = pybind11;

/// A JSON value as the Python value json.loads would give.
inline py::object json_to_py(const nlohmann::json& j)
{
    switch (j.type()) {
    case nlohmann::json::value_t::null:
        return py::none();
    case nlohmann::json::value_t::boolean:
        return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
        return py::int_(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned:
        return py::int_(j.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float:
        return py::float_(j.get<double>());
    case nlohmann::json::value_t::string:
        return py::str(j.get<std::string>());
    case nlohmann::json::value_t::array: {
        py::list l;
        for (const auto& v : j) l.append(json_to_py(v));
        return std::move(l);
    }
    case nlohmann::json::value_t::object: {
        py::dict d;
        for (const auto& [k, v] : j.items()) d[py::str(k)] = json_to_py(v);
        return std::move(d);
    }
    default:
        throw invalid_argument("json_to_py: unsupported JSON value");
    }
}

/// A Python value (dict, list, tuple, number, string, bool, None, numpy scalar) as JSON;
/// anything else is an invalid_argument naming `who` and the type.
inline nlohmann::json py_to_json(py::handle h, const std::string& who)
{
    if (h.is_none()) return nullptr;
    if (py::isinstance<py::bool_>(h)) return h.cast<bool>();
    if (py::isinstance<py::int_>(h)) return h.cast<std::int64_t>();
    if (py::isinstance<py::float_>(h)) return h.cast<double>();
    if (py::isinstance<py::str>(h)) return h.cast<std::string>();
    if (py::isinstance<py::dict>(h)) {
        nlohmann::json j = nlohmann::json::object();
        for (auto item : h.cast<py::dict>()) {
            if (!py::isinstance<py::str>(item.first)) throw invalid_argument(who + ": dict keys must be strings");
            const auto key = item.first.cast<std::string>();
            j[key] = py_to_json(item.second, who + "." + key);
        }
        return j;
    }
    if (py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h)) {
        nlohmann::json j = nlohmann::json::array();
        for (auto v : h) j.push_back(py_to_json(v, who));
        return j;
    }
    if (py::hasattr(h, "item") && py::hasattr(h, "dtype")) return py_to_json(h.attr("item")(), who);  // numpy scalar
    throw invalid_argument(who + ": cannot read a value of Python type '" +
                           py::str(h.get_type().attr("__name__")).cast<std::string>() + "'");
}

/// A read-only 2-D input (any numeric array-like) converted to T and copied.
template <class T>
inline matrix<T> to_matrix(py::handle x, const std::string& who)
{
    auto a = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(x);
    if (!a) {
        PyErr_Clear();
        throw invalid_argument(who + ": expected a 2-D numeric array");
    }
    if (a.ndim() != 2) {
        throw invalid_argument(who + ": expected a 2-D array, got " + std::to_string(a.ndim()) + " dimensions");
    }
    const std::size_t rows = static_cast<std::size_t>(a.shape(0)), cols = static_cast<std::size_t>(a.shape(1));
    matrix<T> m = matrix<T>::from_shape({rows, cols});
    std::copy(a.data(), a.data() + rows * cols, m.data());
    return m;
}

/// Integer labels (1-D) copied into a label_vector; negative labels are refused.
inline label_vector to_labels(py::handle y, const std::string& who)
{
    auto a = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(y);
    if (!a || a.ndim() != 1) {
        PyErr_Clear();
        throw invalid_argument(who + ": expected a 1-D array of integer labels");
    }
    label_vector v(label_vector::shape_type{static_cast<std::size_t>(a.shape(0))});
    for (py::ssize_t i = 0; i < a.shape(0); ++i) {
        if (a.data()[i] < 0) throw invalid_argument(who + ": label " + std::to_string(i) + " is negative");
        v(static_cast<std::size_t>(i)) = static_cast<std::size_t>(a.data()[i]);
    }
    return v;
}

/// A copy of any contiguous xtensor container as a numpy array owned by Python.
template <class E>
inline py::array to_numpy(const E& e)
{
    using V = typename E::value_type;
    std::vector<py::ssize_t> shape(e.shape().begin(), e.shape().end());
    py::array_t<V> a(shape);
    std::copy(e.data(), e.data() + e.size(), a.mutable_data());
    return std::move(a);
}

}  // namespace sleepnet::python
