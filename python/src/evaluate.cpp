// sleepnet._core: evaluation on numpy weights (copied into a DenseNetwork; the arrays are
// only read): accuracy, FGSM, DeepFool, (A)PGD, FMN, Square, noise and blur curves.
// Attack results are dicts (the JSON of the example programs) plus the adversarial array.
#include <string>
#include <type_traits>
#include <vector>

#include <pybind11/stl.h>

#include <sleepnet/attacks/common_json.hpp>
#include <sleepnet/attacks/deepfool.hpp>
#include <sleepnet/attacks/fgsm.hpp>
#include <sleepnet/attacks/fmn.hpp>
#include <sleepnet/attacks/pgd.hpp>
#include <sleepnet/attacks/square.hpp>
#include <sleepnet/distort/curves.hpp>
#include <sleepnet/distort/curves_json.hpp>
#include <sleepnet/nn/train.hpp>

#include "module.hpp"
#include "network.hpp"

namespace sleepnet::python {
namespace {

template <class Net>
using value_of = std::decay_t<decltype(std::declval<const Net&>().weights(0)(0, 0))>;

/// Calls f(net, x, y) on a network copy of `weights` in their dtype, x converted to it,
/// with the GIL released (the copies are made before).
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

/// Runs an attack with the GIL released and returns its result dict.
template <class Attack>
auto released(Attack&& attack)
{
    py::gil_scoped_release release;
    return attack();
}

void register_attacks(py::module_& m)
{
    m.def(
        "fgsm",
        [](py::handle w, py::handle x, py::handle y, std::size_t steps, double max_epsilon, py::handle network) {
            FgsmOptions o;
            o.steps = steps;
            o.max_epsilon = max_epsilon;
            return evaluate(w, network, x, y, [&](const auto& net, const auto& xm, const label_vector& ym) {
                return py::object(result_dict(released([&] { return fgsm(net, xm, ym, o); })));
            });
        },
        py::arg("weights"), py::arg("x"), py::arg("y"), py::kw_only(), py::arg("steps") = 1000,
        py::arg("max_epsilon") = 1.0, py::arg("network") = py::none(), "Minimal-epsilon FGSM (Foolbox grid).");
    m.def(
        "deepfool",
        [](py::handle w, py::handle x, py::handle y, std::size_t max_iterations, double overshoot, py::handle network) {
            DeepFoolOptions o;
            o.max_iterations = max_iterations;
            o.overshoot = overshoot;
            return evaluate(w, network, x, y, [&](const auto& net, const auto& xm, const label_vector& ym) {
                return py::object(result_dict(released([&] { return deepfool(net, xm, ym, o); })));
            });
        },
        py::arg("weights"), py::arg("x"), py::arg("y"), py::kw_only(), py::arg("max_iterations") = 100,
        py::arg("overshoot") = 0.05, py::arg("network") = py::none(), "DeepFool (L2).");
    m.def(
        "fmn",
        [](py::handle w, py::handle x, py::handle y, const std::string& norm, std::size_t steps, py::handle network) {
            FmnOptions o;
            o.norm = enum_from_string<Norm>(norm);
            o.steps = steps;
            return evaluate(w, network, x, y, [&](const auto& net, const auto& xm, const label_vector& ym) {
                return py::object(result_dict(released([&] { return fmn(net, xm, ym, o); })));
            });
        },
        py::arg("weights"), py::arg("x"), py::arg("y"), py::kw_only(), py::arg("norm") = "linf", py::arg("steps") = 100,
        py::arg("network") = py::none(), "FMN minimal-norm attack.");
}

PgdOptions pgd_options(const std::string& method, const std::string& norm, const std::vector<std::string>& losses,
                       std::size_t steps, std::size_t restarts)
{
    PgdOptions o;
    o.method = enum_from_string<PgdMethod>(method);
    o.norm = enum_from_string<Norm>(norm);
    o.losses.clear();
    for (const auto& l : losses) o.losses.push_back(enum_from_string<LogitLoss>(l));
    o.steps = steps;
    o.restarts = restarts;
    return o;
}

void register_strong(py::module_& m)
{
    m.def(
        "pgd",
        [](py::handle w, py::handle x, py::handle y, double epsilon, const std::string& method, const std::string& norm,
           const std::vector<std::string>& losses, std::size_t steps, std::size_t restarts, std::uint64_t seed,
           double max_epsilon, double tolerance, bool minimal, py::handle network) {
            const PgdOptions o = pgd_options(method, norm, losses, steps, restarts);
            const MinimalEpsilonSearch s{max_epsilon, tolerance};
            return evaluate(w, network, x, y, [&](const auto& net, const auto& xm, const label_vector& ym) {
                default_engine engine(seed);
                return py::object(result_dict(released([&] {
                    return minimal ? pgd_minimal(net, xm, ym, o, s, engine) : pgd(net, xm, ym, epsilon, o, engine);
                })));
            });
        },
        py::arg("weights"), py::arg("x"), py::arg("y"), py::kw_only(), py::arg("epsilon") = 0.1,
        py::arg("method") = "apgd", py::arg("norm") = "linf",
        py::arg("losses") = std::vector<std::string>{"ce", "margin"}, py::arg("steps") = 100, py::arg("restarts") = 1,
        py::arg("seed") = 1, py::arg("max_epsilon") = 1.0, py::arg("tolerance") = 1e-3, py::arg("minimal") = false,
        py::arg("network") = py::none(),
        "(A)PGD at a budget (robust_accuracy), or with minimal=True the per-input minimal budget.");
    m.def(
        "square",
        [](py::handle w, py::handle x, py::handle y, double epsilon, std::size_t queries, std::uint64_t seed,
           py::handle network) {
            SquareOptions o;
            o.queries = queries;
            return evaluate(w, network, x, y, [&](const auto& net, const auto& xm, const label_vector& ym) {
                default_engine engine(seed);
                return py::object(
                    result_dict(released([&] { return square_attack(net, xm, ym, epsilon, o, engine); })));
            });
        },
        py::arg("weights"), py::arg("x"), py::arg("y"), py::kw_only(), py::arg("epsilon") = 0.1,
        py::arg("queries") = 5000, py::arg("seed") = 1, py::arg("network") = py::none(),
        "Square attack (L-inf, gradient-free) at a budget.");
}

void register_curves(py::module_& m)
{
    m.def(
        "noise_curve",
        [](py::handle w, py::handle x, py::handle y, const std::vector<double>& levels, const std::string& kind,
           std::uint64_t seed, py::handle network) {
            const NoiseLevel k = enum_from_string<NoiseLevel>(kind);
            return evaluate(w, network, x, y, [&](const auto& net, const auto& xm, const label_vector& ym) {
                default_engine engine(seed);
                return json_to_py(
                    nlohmann::json(released([&] { return noise_curve(net, xm, ym, levels, k, engine); })));
            });
        },
        py::arg("weights"), py::arg("x"), py::arg("y"), py::arg("levels"), py::kw_only(), py::arg("kind") = "std_dev",
        py::arg("seed") = 1, py::arg("network") = py::none(), "Accuracy under Gaussian noise: [{level, accuracy}].");
    m.def(
        "blur_curve",
        [](py::handle w, py::handle x, py::handle y, const std::vector<double>& sigmas, std::size_t rows,
           std::size_t cols, py::handle network) {
            return evaluate(w, network, x, y, [&](const auto& net, const auto& xm, const label_vector& ym) {
                return json_to_py(
                    nlohmann::json(released([&] { return blur_curve(net, xm, ym, rows, cols, sigmas); })));
            });
        },
        py::arg("weights"), py::arg("x"), py::arg("y"), py::arg("sigmas"), py::kw_only(), py::arg("rows") = 28,
        py::arg("cols") = 28, py::arg("network") = py::none(), "Accuracy under Gaussian blur: [{level, accuracy}].");
}

}  // namespace

void register_evaluate(py::module_& m)
{
    m.def(
        "accuracy",
        [](py::handle w, py::handle x, py::handle y, py::handle network) {
            return evaluate(w, network, x, y, [](const auto& net, const auto& xm, const label_vector& ym) {
                return py::object(py::float_(released([&] { return accuracy(net, xm, ym); })));
            });
        },
        py::arg("weights"), py::arg("x"), py::arg("y"), py::kw_only(), py::arg("network") = py::none(),
        "Fraction of rows of x classified as y.");
    m.def(
        "predict",
        [](py::handle w, py::handle x, py::handle network) {
            return evaluate(w, network, x, py::none(), [](const auto& net, const auto& xm, const label_vector&) {
                return py::object(to_numpy(released([&] { return net.predict(xm); })));
            });
        },
        py::arg("weights"), py::arg("x"), py::kw_only(), py::arg("network") = py::none(),
        "Predicted classes (argmax of the last pre-activation).");
    register_attacks(m);
    register_strong(m);
    register_curves(m);
}

}  // namespace sleepnet::python
