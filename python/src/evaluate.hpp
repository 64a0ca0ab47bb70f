#pragma once
// What the evaluation functions of sleepnet._core share: a network copy of numpy weights
// (the arrays are only read), attacks run with the GIL released, attack results as dicts
// and options read from keyword arguments (the JSON keys of attacks/options_json.hpp).
#include <string>
#include <type_traits>
#include <utility>

#include <sleepnet/attacks/common_json.hpp>
#include <sleepnet/core/error.hpp>

#include "network.hpp"

namespace sleepnet::python {

template <class Net>
using value_of = std::decay_t<decltype(std::declval<const Net&>().weights(0)(0, 0))>;

/// Calls f(net, x, y) on a network copy of `weights` in their dtype, x converted to it
/// (y None: an empty label vector).
template <class F>
py::object evaluate(py::handle weights, py::handle network, py::handle x_in, py::handle y_in, F&& f)
{
    const WeightArrays w = weight_arrays(weights);
    const NetworkOptions o = network_options(network);
    const label_vector y = y_in.is_none() ? label_vector{} : to_labels(y_in, "y");
    auto run = [&](auto zero) -> py::object {
        using T = decltype(zero);
        const DenseNetwork<T> net = network_copy<T>(w, o);
        const matrix<T> x = to_matrix<T>(x_in, "x");
        return f(net, x, y);
    };
    return w.float64 ? run(0.0) : run(0.0f);
}

/// An attack result as the example programs' JSON plus its summary figures and the
/// adversarial inputs (an N x D array).
template <class T>
py::dict result_dict(const AttackResult<T>& r)
{
    py::dict d = json_to_py(nlohmann::json(r));
    d["success_rate"] = r.success_rate();
    d["robust_accuracy"] = r.robust_accuracy();
    d["median_distance"] = r.median_distance();
    d["median_epsilon"] = r.median_epsilon();
    d["adversarial"] = to_numpy(r.adversarial);
    return d;
}

/// Runs f() with the GIL released.
template <class F>
auto released(F&& f)
{
    py::gil_scoped_release release;
    return f();
}

/// `defaults` overlaid with the keyword arguments, read as the JSON of O: a keyword that
/// is not a field of O is InvalidArgument "<who>: <O>: unknown key '<k>'".
template <class O>
O options_from(const py::kwargs& kwargs, const O& defaults, const std::string& who)
{
    O o = defaults;
    try {
        from_json(py_to_json(kwargs, who), o);
    } catch (const invalid_argument& e) {
        throw invalid_argument(who + ": " + e.what());
    }
    return o;
}

}  // namespace sleepnet::python
