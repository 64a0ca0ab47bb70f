// sleepnet._core: evaluation on numpy weights (copied into a DenseNetwork; the arrays are
// only read): accuracy, FGSM, DeepFool, (A)PGD, FMN, Square; FGSM, noise and blur curves.
// Attack results are dicts (the JSON of the example programs) plus the adversarial array;
// an attack's keyword arguments are the fields of its options struct (attacks/options_json.hpp).
#include <string>
#include <type_traits>
#include <vector>

#include <pybind11/stl.h>

#include <sleepnet/attacks/options_json.hpp>
#include <sleepnet/attacks/deepfool.hpp>
#include <sleepnet/attacks/fgsm.hpp>
#include <sleepnet/attacks/fgsm_curve.hpp>
#include <sleepnet/attacks/fmn.hpp>
#include <sleepnet/attacks/pgd.hpp>
#include <sleepnet/attacks/square.hpp>
#include <sleepnet/distort/curves.hpp>
#include <sleepnet/distort/curves_json.hpp>
#include <sleepnet/nn/train.hpp>

#include "module.hpp"
#include "evaluate.hpp"

namespace sleepnet::python {
namespace {

void register_attacks(py::module_& m)
{
    m.def(
        "fgsm",
        [](py::handle w, py::handle x, py::handle y, py::handle network, const py::kwargs& kwargs) {
            const auto o = options_from(kwargs, FgsmOptions{}, "fgsm");
            return evaluate(w, network, x, y, [&](const auto& net, const auto& xm, const label_vector& ym) {
                return py::object(result_dict(released([&] { return fgsm(net, xm, ym, o); })));
            });
        },
        py::arg("weights"), py::arg("x"), py::arg("y"), py::kw_only(), py::arg("network") = py::none(),
        "Minimal-epsilon FGSM (Foolbox grid); keyword arguments are FgsmOptions fields.");
    m.def(
        "deepfool",
        [](py::handle w, py::handle x, py::handle y, py::handle network, const py::kwargs& kwargs) {
            const auto o = options_from(kwargs, DeepFoolOptions{}, "deepfool");
            return evaluate(w, network, x, y, [&](const auto& net, const auto& xm, const label_vector& ym) {
                return py::object(result_dict(released([&] { return deepfool(net, xm, ym, o); })));
            });
        },
        py::arg("weights"), py::arg("x"), py::arg("y"), py::kw_only(), py::arg("network") = py::none(),
        "DeepFool (L2); keyword arguments are DeepFoolOptions fields.");
    m.def(
        "fmn",
        [](py::handle w, py::handle x, py::handle y, py::handle network, const py::kwargs& kwargs) {
            const auto o = options_from(kwargs, FmnOptions{}, "fmn");
            return evaluate(w, network, x, y, [&](const auto& net, const auto& xm, const label_vector& ym) {
                return py::object(result_dict(released([&] { return fmn(net, xm, ym, o); })));
            });
        },
        py::arg("weights"), py::arg("x"), py::arg("y"), py::kw_only(), py::arg("network") = py::none(),
        "FMN minimal-norm attack; keyword arguments are FmnOptions fields.");
}

void register_strong(py::module_& m)
{
    m.def(
        "pgd",
        [](py::handle w, py::handle x, py::handle y, double epsilon, std::uint64_t seed, bool minimal,
           double max_epsilon, double tolerance, double split, bool warm_start, py::handle network,
           const py::kwargs& kwargs) {
            const auto o = options_from(kwargs, PgdOptions{}, "pgd");
            const MinimalEpsilonSearch s{max_epsilon, tolerance, split, warm_start};
            return evaluate(w, network, x, y, [&](const auto& net, const auto& xm, const label_vector& ym) {
                default_engine engine(seed);
                return py::object(result_dict(released([&] {
                    return minimal ? pgd_minimal(net, xm, ym, o, s, engine) : pgd(net, xm, ym, epsilon, o, engine);
                })));
            });
        },
        py::arg("weights"), py::arg("x"), py::arg("y"), py::kw_only(), py::arg("epsilon") = 0.1, py::arg("seed") = 1,
        py::arg("minimal") = false, py::arg("max_epsilon") = 1.0, py::arg("tolerance") = 1e-3, py::arg("split") = 0.5,
        py::arg("warm_start") = false, py::arg("network") = py::none(),
        "(A)PGD at a budget (robust_accuracy), or with minimal=True the per-input minimal budget; keyword "
        "arguments are PgdOptions fields.");
    m.def(
        "square",
        [](py::handle w, py::handle x, py::handle y, double epsilon, std::uint64_t seed, py::handle network,
           const py::kwargs& kwargs) {
            const auto o = options_from(kwargs, SquareOptions{}, "square");
            return evaluate(w, network, x, y, [&](const auto& net, const auto& xm, const label_vector& ym) {
                default_engine engine(seed);
                return py::object(
                    result_dict(released([&] { return square_attack(net, xm, ym, epsilon, o, engine); })));
            });
        },
        py::arg("weights"), py::arg("x"), py::arg("y"), py::kw_only(), py::arg("epsilon") = 0.1, py::arg("seed") = 1,
        py::arg("network") = py::none(),
        "Square attack (L-inf, gradient-free) at a budget; keyword arguments are SquareOptions fields.");
}

void register_curves(py::module_& m)
{
    m.def(
        "fgsm_curve",
        [](py::handle w, py::handle x, py::handle y, const std::vector<double>& epsilons, const std::string& loss,
           bool certify, py::handle network) {
            FgsmCurveOptions o;
            o.loss = enum_from_string<AttackLoss>(loss);
            o.certify.enabled = certify;
            return evaluate(w, network, x, y, [&](const auto& net, const auto& xm, const label_vector& ym) {
                const FgsmCurve c = released([&] { return fgsm_curve(net, xm, ym, epsilons, o); });
                nlohmann::json j = nlohmann::json::array();
                for (std::size_t k = 0; k < epsilons.size(); ++k)
                    j.push_back({{"epsilon", epsilons[k]}, {"accuracy", c.accuracy[k]}});
                return json_to_py(j);
            });
        },
        py::arg("weights"), py::arg("x"), py::arg("y"), py::arg("epsilons"), py::kw_only(), py::arg("loss") = "network",
        py::arg("certify") = true, py::arg("network") = py::none(),
        "Accuracy on clip(x + eps sign(gradient)) for each eps: [{epsilon, accuracy}]; every input counts. "
        "certify=False evaluates every point (the same accuracies, slower).");
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
