// sleepnet._core: the robustness audit (attacks/audit.hpp) of numpy weights, with an
// optional surrogate for the transfer check; the report is the dict of attacks/audit_json.hpp.
#include <cstdint>
#include <optional>
#include <string>

#include <sleepnet/attacks/audit.hpp>
#include <sleepnet/attacks/audit_json.hpp>
#include <sleepnet/core/rng.hpp>

#include "callback.hpp"
#include "evaluate.hpp"
#include "module.hpp"

namespace sleepnet::python {
namespace {

/// Before each stage: takes the GIL, lets Ctrl-C through (the exception stops the audit)
/// and calls the Python callback with {"stage", "index", "stages"}; a true result stops
/// the audit (the report is partial, report["stopped"]).
struct PyAuditProgress {
    py::object callback;

    bool on_progress(const AuditProgress& p)
    {
        return call_python_callback(callback, [&] {
            py::dict info;
            info["stage"] = p.stage;
            info["index"] = p.index;
            info["stages"] = p.stages;
            return info;
        });
    }
};

struct AuditCall {
    AuditOptions options;
    std::uint64_t seed = 1;
    py::handle surrogate;
    NetworkOptions surrogate_network;
    PyAuditProgress progress;
};

template <class T>
py::object audit_network(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y, AuditCall& c)
{
    std::optional<DenseNetwork<T>> surrogate;
    if (!c.surrogate.is_none()) surrogate.emplace(network_copy<T>(weight_arrays(c.surrogate), c.surrogate_network));
    default_engine engine(c.seed);  // as the audit example: default_engine(--seed)
    const AuditReport<T> report =
        released([&] { return audit(net, x, y, surrogate ? &*surrogate : nullptr, c.options, engine, c.progress); });
    py::dict d = json_to_py(nlohmann::json(report));
    d["options"] = json_to_py(nlohmann::json(c.options));
    d["seed"] = c.seed;
    return std::move(d);
}

}  // namespace

void register_audit(py::module_& m)
{
    m.def(
        "audit",
        [](py::handle w, py::handle x, py::handle y, py::handle surrogate, std::uint64_t seed, py::handle network,
           py::handle surrogate_network, py::object callback, const py::kwargs& kwargs) {
            const AuditOptions defaults;
            AuditCall c;
            c.options = options_from(kwargs, defaults, "audit");
            c.seed = seed;
            c.surrogate = surrogate;
            c.progress.callback = std::move(callback);
            c.surrogate_network = network_options(surrogate_network.is_none() ? network : surrogate_network);
            return evaluate(w, network, x, y, [&](const auto& net, const auto& xm, const label_vector& ym) {
                return audit_network(net, xm, ym, c);
            });
        },
        py::arg("weights"), py::arg("x"), py::arg("y"), py::kw_only(), py::arg("surrogate") = py::none(),
        py::arg("seed") = 1, py::arg("network") = py::none(), py::arg("surrogate_network") = py::none(),
        py::arg("callback") = py::none(),
        "The robustness audit (checklist against gradient masking, L-inf and L2 curves, worst case); keyword "
        "arguments are AuditOptions fields.");
}

}  // namespace sleepnet::python
