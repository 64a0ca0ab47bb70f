#pragma once
// numpy weights as the library sees them: checked, in-place views of the caller's buffers
// (WeightView, for sleep) and DenseNetwork copies (for normalization and evaluation), and
// the network description (`network=`: None, a dict of model.json keys or a model
// directory).

#include <cstddef>
#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <sleepnet/core/json.hpp>
#include <sleepnet/nn/dense_network.hpp>
#include <sleepnet/nn/io.hpp>
#include <sleepnet/snn/integrate_fire.hpp>

#include "convert.hpp"

namespace sleepnet::python {

/// The weight arrays of a list (or tuple) of numpy arrays; dtype "float32" or "float64",
/// the same for all. Anything else is a TypeError naming the layer (1-based).
struct WeightArrays {
    std::vector<py::array> arrays;
    bool float64 = false;
};

inline std::string layer_name(std::size_t l)
{
    return "weights[" + std::to_string(l) + "] (layer " + std::to_string(l + 1) + ")";
}

inline WeightArrays weight_arrays(py::handle weights)
{
    if (!py::isinstance<py::list>(weights) && !py::isinstance<py::tuple>(weights))
        throw py::type_error("weights: expected a list of 2-D numpy arrays (out, in), got '" +
                             py::str(weights.get_type().attr("__name__")).cast<std::string>() + "'");
    WeightArrays w;
    for (auto item : weights) {
        const std::string name = layer_name(w.arrays.size());
        if (!py::isinstance<py::array>(item))
            throw py::type_error(name + ": expected a numpy array, got '" +
                                 py::str(item.get_type().attr("__name__")).cast<std::string>() + "'");
        auto a = py::reinterpret_borrow<py::array>(item);
        const bool f32 = a.dtype().is(py::dtype::of<float>()), f64 = a.dtype().is(py::dtype::of<double>());
        if (!f32 && !f64)
            throw py::type_error(name + ": dtype " + py::str(a.dtype()).cast<std::string>() +
                                 ", expected float32 or float64 (converting would sleep a copy)");
        if (w.arrays.empty()) w.float64 = f64;
        if (f64 != w.float64)
            throw py::type_error(name + ": dtype " + py::str(a.dtype()).cast<std::string>() + " but " + layer_name(0) +
                                 " is " + (w.float64 ? "float64" : "float32") + " (all layers need the same dtype)");
        w.arrays.push_back(a);
    }
    if (w.arrays.empty()) throw invalid_argument("weights: empty list, expected at least one layer");
    return w;
}

/// Layer sizes {in, out_1, out_2, ...} of the arrays, checking 2-D shapes that chain.
inline std::vector<std::size_t> layer_sizes(const WeightArrays& w)
{
    std::vector<std::size_t> sizes;
    for (std::size_t l = 0; l < w.arrays.size(); ++l) {
        const auto& a = w.arrays[l];
        if (a.ndim() != 2)
            throw invalid_argument(layer_name(l) + ": expected a 2-D (out, in) array, got " + std::to_string(a.ndim()) +
                                   " dimensions");
        const auto out = static_cast<std::size_t>(a.shape(0)), in = static_cast<std::size_t>(a.shape(1));
        if (out == 0 || in == 0) throw invalid_argument(layer_name(l) + ": empty array");
        if (l == 0) sizes.push_back(in);
        if (in != sizes.back())
            throw invalid_argument(layer_name(l) + ": shape (" + std::to_string(out) + ", " + std::to_string(in) +
                                   ") takes " + std::to_string(in) + " inputs but the layer below has " +
                                   std::to_string(sizes.back()) + " outputs");
        sizes.push_back(out);
    }
    return sizes;
}

/// In-place views of the first `count` arrays: C-contiguous and writeable, or refused
/// (sleeping a copy would leave the caller's weights unchanged).
template <class T>
inline std::vector<WeightView<T>> in_place_views(const WeightArrays& w, std::size_t count)
{
    std::vector<WeightView<T>> views;
    for (std::size_t l = 0; l < count; ++l) {
        const auto& a = w.arrays[l];
        if (!(a.flags() & py::array::c_style))
            throw invalid_argument(layer_name(l) + ": not C-contiguous; sleep changes weights in place and will not "
                                                   "sleep a copy (pass np.ascontiguousarray(w) and keep that array)");
        if (!a.writeable()) throw invalid_argument(layer_name(l) + ": read-only array; sleep changes weights in place");
        auto* data = static_cast<T*>(const_cast<void*>(a.data()));
        views.push_back({data, static_cast<std::size_t>(a.shape(0)), static_cast<std::size_t>(a.shape(1))});
    }
    return views;
}

/// The network description: None (the authors' network: ReLU hidden and output, no bias,
/// no dropout), a model directory (its model.json) or a dict with model.json's keys.
inline NetworkOptions network_options(py::handle spec)
{
    if (spec.is_none()) return NetworkOptions{};
    if (py::isinstance<py::str>(spec)) return read_model_info(spec.cast<std::string>()).options;
    if (!py::isinstance<py::dict>(spec))
        throw py::type_error("network: expected None, a model directory or a dict of model.json keys");
    const nlohmann::json j = py_to_json(spec, "network");
    const std::string who = "network";
    detail::json_check_keys(j,
                            {"hidden_activation", "output_activation", "bias", "dropout", "dropout_mode", "layer_sizes",
                             "dtype", "format", "format_version", "test_scale"},
                            who);
    NetworkOptions o;
    detail::json_read_enum(j, "hidden_activation", o.hidden, who);
    detail::json_read_enum(j, "output_activation", o.output, who);
    detail::json_read_enum(j, "dropout_mode", o.dropout_mode, who);
    detail::json_read(j, "bias", o.bias, who);
    detail::json_read(j, "dropout", o.dropout, who);
    return o;
}

/// A DenseNetwork holding copies of the arrays (any layout; read only).
template <class T>
inline DenseNetwork<T> network_copy(const WeightArrays& w, const NetworkOptions& options)
{
    if (options.bias) throw invalid_argument("network: 'bias' is true, but only weight matrices were given");
    DenseNetwork<T> net(layer_sizes(w), options);
    for (std::size_t l = 0; l < w.arrays.size(); ++l) net.weights(l) = to_matrix<T>(w.arrays[l], layer_name(l));
    return net;
}

}  // namespace sleepnet::python
