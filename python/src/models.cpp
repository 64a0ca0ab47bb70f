// sleepnet._core: model directories and data sets as numpy arrays.
#include <string>

#include <pybind11/stl.h>

#include <sleepnet/data/load.hpp>
#include <sleepnet/nn/io.hpp>

#include "module.hpp"
#include "network.hpp"

namespace sleepnet::python {
namespace {

py::dict info_dict(const ModelInfo& info)
{
    py::dict d;
    d["layer_sizes"] = info.layer_sizes;
    d["hidden_activation"] = to_string(info.options.hidden);
    d["output_activation"] = to_string(info.options.output);
    d["bias"] = info.options.bias;
    d["dropout"] = info.options.dropout;
    d["dropout_mode"] = to_string(info.options.dropout_mode);
    d["dtype"] = info.dtype;
    return d;
}

template <class T>
py::tuple load_model_as(const std::string& dir, const ModelInfo& info)
{
    const DenseNetwork<T> net = load_model<T>(dir);
    if (net.has_bias())
        throw invalid_argument("load_model: '" + dir + "' has biases; the module reads bias-free models");
    py::list weights;
    for (std::size_t l = 0; l < net.num_layers(); ++l) weights.append(to_numpy(net.weights(l)));
    return py::make_tuple(weights, info_dict(info));
}

py::tuple load_model_py(const std::string& dir)
{
    const ModelInfo info = read_model_info(dir);
    return info.dtype == "float64" ? load_model_as<double>(dir, info) : load_model_as<float>(dir, info);
}

void save_model_py(py::handle weights, const std::string& dir, py::handle network)
{
    const WeightArrays w = weight_arrays(weights);
    const NetworkOptions o = network_options(network);
    if (w.float64)
        save_model(network_copy<double>(w, o), dir);
    else
        save_model(network_copy<float>(w, o), dir);
}

template <class T>
py::dict dataset_as(const std::string& name, const std::string& dir, std::uint64_t seed)
{
    const DataSplits<T> d = load_dataset<T>(name, dir, seed);
    py::dict r;
    r["train_x"] = to_numpy(d.train.x);
    r["train_y"] = to_numpy(d.train.y);
    r["test_x"] = to_numpy(d.test.x);
    r["test_y"] = to_numpy(d.test.y);
    return r;
}

}  // namespace

void register_models(py::module_& m)
{
    m.def(
        "read_model_info", [](const std::string& dir) { return info_dict(read_model_info(dir)); }, py::arg("dir"),
        "model.json of a model directory as a dict (the `network=` description).");
    m.def("load_model", &load_model_py, py::arg("dir"),
          "(weights, info): the weight matrices of a model directory as numpy arrays in its dtype, and model.json.");
    m.def("save_model", &save_model_py, py::arg("weights"), py::arg("dir"), py::kw_only(),
          py::arg("network") = py::none(), "Writes weights (and the network description) as a model directory.");
    m.def(
        "load_dataset",
        [](const std::string& name, const std::string& dir, std::uint64_t seed, const std::string& dtype) {
            if (dtype != "float32" && dtype != "float64")
                throw invalid_argument("load_dataset: dtype must be 'float32' or 'float64', got '" + dtype + "'");
            return dtype == "float64" ? dataset_as<double>(name, dir, seed) : dataset_as<float>(name, dir, seed);
        },
        py::arg("name"), py::arg("dir") = "", py::kw_only(), py::arg("seed") = 1, py::arg("dtype") = "float32",
        "A data set as the example programs load it: dict of train_x, train_y, test_x, test_y.");
}

}  // namespace sleepnet::python
