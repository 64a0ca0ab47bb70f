#pragma once
// JSON of the robustness audit (attacks/audit.hpp), ADL adapters of nlohmann::json:
// - AuditOptions: every field ("attack" as PgdOptions, "search" as MinimalEpsilonSearch;
//   attacks/options_json.hpp); reading overlays strictly (unknown keys are errors).
// - AuditCheck: {"name", "key" (audit_check_key), "pass", "value", "reference", "detail",
//   "masking"} (non-finite numbers as null).
// - AuditReport: {"clean_accuracy", "checks", "passed" ({key: 0|1}), "failed" (checks
//   failed), "masking_suspected", "converged", "robust_accuracy" (null until measured),
//   "stopped", "curves": {"linf"|"l2": {"budgets", "robust_accuracy": {series: [...]}}},
//   "worst_case": [{"index", "label", "attempted", "linf", "l2"} per input]} ("linf" and
//   "l2" are the worst-case minimal budgets, only for attempted inputs, "l2" only with
//   AuditOptions::l2).

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../core/json.hpp"
#include "audit.hpp"
#include "options_json.hpp"

namespace sleepnet {

/// The short key of a check name of audit_checks ("iterative", "reaches_zero", "black_box",
/// "transfer", "converged", "noise", "margin"), for JSON consumers.
inline std::string audit_check_key(const std::string& name)
{
    namespace c = audit_checks;
    static const std::pair<const char*, const char*> keys[] = {
        {c::iterative, "iterative"}, {c::reaches_zero, "reaches_zero"}, {c::black_box, "black_box"},
        {c::transfer, "transfer"},   {c::converged, "converged"},       {c::noise, "noise"},
        {c::margin, "margin"}};
    for (const auto& [full, key] : keys)
        if (name == full) return key;
    throw invalid_argument("audit_check_key: unknown check '" + name + "'");
}

inline void to_json(nlohmann::json& j, const AuditOptions& o)
{
    j = {{"epsilons", o.epsilons},
         {"epsilon", o.epsilon},
         {"attack", o.attack},
         {"search", o.search},
         {"square_queries", o.square_queries},
         {"noise_draws", o.noise_draws},
         {"tolerance", o.tolerance},
         {"l2", o.l2},
         {"l2_max", o.l2_max},
         {"l2_norms", o.l2_norms}};
}

inline void from_json(const nlohmann::json& j, AuditOptions& o)
{
    const std::string who = "AuditOptions";
    detail::json_check_keys(j,
                            {"epsilons", "epsilon", "attack", "search", "square_queries", "noise_draws", "tolerance",
                             "l2", "l2_max", "l2_norms"},
                            who);
    detail::json_read(j, "epsilons", o.epsilons, who);
    detail::json_read(j, "epsilon", o.epsilon, who);
    detail::json_read_nested(j, "attack", o.attack, who);
    detail::json_read_nested(j, "search", o.search, who);
    detail::json_read(j, "square_queries", o.square_queries, who);
    detail::json_read(j, "noise_draws", o.noise_draws, who);
    detail::json_read(j, "tolerance", o.tolerance, who);
    detail::json_read(j, "l2", o.l2, who);
    detail::json_read(j, "l2_max", o.l2_max, who);
    detail::json_read(j, "l2_norms", o.l2_norms, who);
}

/// AuditOptions from JSON text: `base` with the keys of the text's object overlaid; errors
/// name `name` (format_error: not JSON; invalid_argument: a bad key or value).
inline AuditOptions audit_options_from_string(const std::string& text, const std::string& name = "<string>",
                                              AuditOptions base = {})
{
    return attack_options_from_string<AuditOptions>(text, name, std::move(base));
}

inline void to_json(nlohmann::json& j, const AuditCheck& c)
{
    j = {{"name", c.name},
         {"key", audit_check_key(c.name)},
         {"pass", c.pass},
         {"value", json_number(c.value)},
         {"reference", json_number(c.reference)},
         {"detail", c.detail},
         {"masking", c.masking}};
}

namespace detail {

inline nlohmann::json audit_curves_json(const std::vector<double>& budgets,
                                        const std::vector<std::pair<std::string, std::vector<double>>>& curves)
{
    nlohmann::json series = nlohmann::json::object();
    for (const auto& [name, c] : curves) series[name] = c;
    return {{"budgets", budgets}, {"robust_accuracy", series}};
}

template <class T>
inline nlohmann::json audit_worst_rows(const AuditReport<T>& r)
{
    nlohmann::json rows = nlohmann::json::array();
    for (std::size_t i = 0; i < r.worst.samples.size(); ++i) {
        const auto& s = r.worst.samples[i];
        nlohmann::json row{{"index", s.index}, {"label", s.label}, {"attempted", s.attempted}};
        if (s.attempted) row["linf"] = json_number(s.epsilon);
        if (s.attempted && i < r.worst_l2.samples.size()) row["l2"] = json_number(r.worst_l2.samples[i].epsilon);
        rows.push_back(row);
    }
    return rows;
}

}  // namespace detail

template <class T>
inline void to_json(nlohmann::json& j, const AuditReport<T>& r)
{
    nlohmann::json passed = nlohmann::json::object();
    int failed = 0;
    for (const auto& c : r.checks) {
        passed[audit_check_key(c.name)] = c.pass ? 1 : 0;
        failed += c.pass ? 0 : 1;
    }
    j = nlohmann::json::object();
    j["clean_accuracy"] = r.clean_accuracy;
    j["checks"] = r.checks;
    j["passed"] = passed;
    j["failed"] = failed;
    j["masking_suspected"] = r.masking_suspected();
    j["converged"] = r.converged();
    j["robust_accuracy"] = json_number(r.robust_accuracy);
    j["stopped"] = r.stopped;
    j["curves"] = {{"linf", detail::audit_curves_json(r.epsilons, r.linf_curves)},
                   {"l2", detail::audit_curves_json(r.l2_norms, r.l2_curves)}};
    j["worst_case"] = detail::audit_worst_rows(r);
}

}  // namespace sleepnet
