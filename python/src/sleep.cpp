// sleepnet._core: sleep on numpy weights in place, normalization, presets, parameter
// files and spike rasters.
#include <cstdint>
#include <string>

#include <pybind11/stl.h>

#include <sleepnet/callbacks/spike_budget.hpp>
#include <sleepnet/core/rng.hpp>
#include <sleepnet/snn/normalize.hpp>
#include <sleepnet/snn/sleep.hpp>
#include <sleepnet/snn/sleep_json.hpp>
#include <sleepnet/snn/spike_source.hpp>

#include "callback.hpp"
#include "module.hpp"
#include "network.hpp"

namespace sleepnet::python {
namespace {

/// Sleep parameters from a dict (the parameter-file schema) or a parameter file path.
SleepParams params_from(py::handle params)
{
    if (py::isinstance<py::str>(params)) return load_sleep_params(params.cast<std::string>());
    if (py::isinstance<py::dict>(params)) return sleep_params_from_json(py_to_json(params, "params"));
    throw py::type_error("params: expected a dict or a parameter file path, got '" +
                         py::str(params.get_type().attr("__name__")).cast<std::string>() + "'");
}

/// The sleep callback: every `every` steps (and after the last) it takes the GIL, lets
/// Ctrl-C through (a KeyboardInterrupt, like any exception raised here, stops sleep and
/// the library restores the weights) and calls the Python callback, whose true result stops.
struct PyProgress {
    py::object callback;
    std::size_t every = 1000;

    bool on_step(const SleepProgress& p)
    {
        if (p.step % every != 0 && p.step != p.steps) return false;
        return call_python_callback(callback, [&] {
            py::dict info;
            info["step"] = p.step;
            info["steps"] = p.steps;
            info["spikes"] = p.spikes;
            return info;
        });
    }
};

struct SleepCall {
    SleepParams params;
    NetworkOptions network;
    std::uint64_t seed = 1;
    std::uint64_t max_spikes = 0;
    py::object raster;
};

template <class T, class Source>
py::dict sleep_on(const std::vector<WeightView<T>>& views, Source& source, const SleepCall& c,
                  const std::vector<double>& alpha, PyProgress& progress)
{
    default_engine engine(c.seed);  // as the sleep example: default_engine(--seed)
    SpikeBudget budget{c.max_spikes};
    SleepReport report;
    {
        py::gil_scoped_release release;
        report = sleep_views(views, source, c.params, alpha, engine, progress, budget);
    }
    py::dict d = json_to_py(nlohmann::json(report));
    if (budget.exceeded()) d["budget_stopped_at"] = budget.stopped_at;
    return d;
}

/// What sleep() of the library does, on in-place views of the caller's arrays; the
/// network copy only feeds the checks and the normalization.
template <class T>
py::dict sleep_arrays(const WeightArrays& w, py::handle x_in, const SleepCall& c, PyProgress& progress)
{
    const SleepParams& p = c.params;
    const DenseNetwork<T> net = network_copy<T>(w, c.network);
    detail::check_sleep_network(net);
    p.validate(net.num_layers());
    const auto views = in_place_views<T>(w, p.simulated_layers(net.num_layers()));
    matrix<T> x;
    if (!x_in.is_none() || c.raster.is_none()) {
        x = to_matrix<T>(x_in, "x");
        net.check_input(x, "sleep");
    } else if (p.alpha.empty()) {
        throw invalid_argument("sleep: x is None; it is needed for the normalization unless params has 'alpha'");
    }
    std::vector<double> alpha;
    {
        py::gil_scoped_release release;
        alpha = sleep_alpha(net, x, p);
    }
    const PoissonOptions po{p.rate, p.dt, p.rate_factor};
    if (!c.raster.is_none()) {
        RasterReplay source(to_matrix<std::uint8_t>(c.raster, "raster"));
        return sleep_on(views, source, c, alpha, progress);
    }
    if (p.input == SleepInput::mean) {
        PoissonMean source(x, po);
        return sleep_on(views, source, c, alpha, progress);
    }
    PoissonSequence<T> source(x, po);
    return sleep_on(views, source, c, alpha, progress);
}

py::dict sleep_py(py::handle weights, py::handle x, py::handle params, std::uint64_t seed, py::handle network,
                  py::object callback, std::size_t every, py::object raster, std::uint64_t max_spikes)
{
    const WeightArrays w = weight_arrays(weights);
    if (every == 0) throw invalid_argument("sleep: 'every' must be > 0");
    if (!callback.is_none() && !PyCallable_Check(callback.ptr()))
        throw py::type_error("sleep: callback is not callable");
    SleepCall c{params_from(params), network_options(network), seed, max_spikes, std::move(raster)};
    PyProgress progress{std::move(callback), every};
    return w.float64 ? sleep_arrays<double>(w, x, c, progress) : sleep_arrays<float>(w, x, c, progress);
}

template <class T>
py::dict normalization_of(const WeightArrays& w, py::handle x_in, const NormalizationOptions& o, py::handle network)
{
    const DenseNetwork<T> net = network_copy<T>(w, network_options(network));
    const matrix<T> x = to_matrix<T>(x_in, "x");
    Normalization n;
    {
        py::gil_scoped_release release;
        n = compute_normalization(net, x, o);
    }
    py::dict d;
    d["max_activation"] = n.max_activation;
    d["max_weight"] = n.max_weight;
    d["scale"] = n.scale;
    d["factors"] = n.factors;
    return d;
}

py::dict normalization_py(py::handle weights, py::handle x, const std::string& chain, double percentile,
                          py::handle network)
{
    const WeightArrays w = weight_arrays(weights);
    NormalizationOptions o{normalization_from_string(chain), percentile};
    return w.float64 ? normalization_of<double>(w, x, o, network) : normalization_of<float>(w, x, o, network);
}

py::array record_raster_py(py::handle x_in, py::handle params, std::size_t steps, std::uint64_t seed)
{
    const SleepParams p = params_from(params);
    const matrix<double> x = to_matrix<double>(x_in, "x");
    const PoissonOptions po{p.rate, p.dt, p.rate_factor};
    default_engine engine(seed);
    const std::size_t n = steps == 0 ? p.steps : steps;
    xt::xtensor<std::uint8_t, 2> r;
    if (p.input == SleepInput::mean) {
        PoissonMean source(x, po);
        r = record_raster(source, n, engine);
    } else {
        PoissonSequence<double> source(x, po);
        r = record_raster(source, n, engine);
    }
    return to_numpy(r);
}

}  // namespace

void register_sleep(py::module_& m)
{
    m.def("sleep", &sleep_py, py::arg("weights"), py::arg("x"), py::arg("params"), py::kw_only(), py::arg("seed") = 1,
          py::arg("network") = py::none(), py::arg("callback") = py::none(), py::arg("every") = 1000,
          py::arg("raster") = py::none(), py::arg("max_spikes") = 0,
          "Sleep the weights in place (see sleepnet.sleep).");
    m.def("normalization", &normalization_py, py::arg("weights"), py::arg("x"), py::kw_only(),
          py::arg("chain") = "authors", py::arg("percentile") = 99.9, py::arg("network") = py::none(),
          "Data-based normalization: dict of max_activation, max_weight, scale and factors per layer.");
    m.def(
        "chain_factors",
        [](const std::vector<double>& scale, const std::string& chain) {
            return chain_factors(scale, normalization_from_string(chain));
        },
        py::arg("scale"), py::arg("chain") = "authors", "Chains per-layer scales s_l into normalization factors.");
    m.def("preset_names", &sleep_preset_names, "Names of the sleep presets.");
    m.def(
        "preset", [](const std::string& name) { return json_to_py(nlohmann::json(sleep_preset(name))); },
        py::arg("name"), "A sleep preset as a parameter dict.");
    m.def(
        "params", [](py::handle params) { return json_to_py(nlohmann::json(params_from(params))); }, py::arg("params"),
        "Reads and completes sleep parameters (dict or file path): the full parameter dict.");
    m.def("record_raster", &record_raster_py, py::arg("x"), py::arg("params"), py::kw_only(), py::arg("steps") = 0,
          py::arg("seed") = 1, "The (steps x inputs) uint8 input spike raster sleep would draw from x.");
}

}  // namespace sleepnet::python
