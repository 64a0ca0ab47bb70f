#pragma once
// JSON of the attacks' options (ADL adapters of nlohmann::json): `nlohmann::json j = o;`
// writes every field under its C++ name (enums by name, Bounds as [lo, hi], nested
// option structs as objects); `j.get_to(o)` overlays: keys that are absent keep o's values,
// unknown keys, values of the wrong type, fractional or negative counts and unknown enum
// names are invalid_argument naming the options and the key. The readers do not validate
// (the attacks do, with the number of classes they need).
//
//   PgdOptions o = PgdOptions::thorough();
//   nlohmann::json{{"steps", 200}, {"losses", {"ce", "margin"}}}.get_to(o);
//
// Used by the Python module (keyword arguments) and the audit's JSON (attacks/audit_json.hpp).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/json.hpp"
#include "deepfool.hpp"
#include "fgsm.hpp"
#include "fmn.hpp"
#include "pgd.hpp"
#include "square.hpp"

namespace sleepnet {

namespace detail {

/// into = j[key] read by from_json(j[key], into) (an overlay of a nested object) if present;
/// errors name "<who>: <key>: ...".
template <class O>
inline void json_read_nested(const nlohmann::json& j, const char* key, O& into, const std::string& who)
{
    if (!j.contains(key)) return;
    try {
        from_json(j.at(key), into);
    } catch (const invalid_argument& e) {
        throw invalid_argument(who + ": " + key + ": " + e.what());
    }
}

/// A list of enum names, e.g. PgdOptions::losses.
template <class E>
inline void json_read_enum_list(const nlohmann::json& j, const char* key, std::vector<E>& into, const std::string& who)
{
    if (!j.contains(key)) return;
    const auto names = json_get<std::vector<std::string>>(j, key, {}, who);
    std::vector<E> values;
    for (const auto& name : names) {
        try {
            values.push_back(enum_from_string<E>(name));
        } catch (const invalid_argument& e) {
            throw invalid_argument(who + ": " + e.what());
        }
    }
    into = values;
}

}  // namespace detail

/// [lo, hi], as defenses/adversarial_json.hpp writes them.
inline void to_json(nlohmann::json& j, const Bounds& b) { j = {b.lo, b.hi}; }

inline void from_json(const nlohmann::json& j, Bounds& b)
{
    if (!j.is_array() || j.size() != 2 || !j[0].is_number() || !j[1].is_number())
        throw invalid_argument("Bounds: expected [lo, hi], got " + j.dump());
    b.lo = j[0].get<double>();
    b.hi = j[1].get<double>();
}

inline void to_json(nlohmann::json& j, const FgsmCertifyOptions& o)
{
    j = {{"enabled", o.enabled}, {"leaf", o.leaf}, {"chunk", o.chunk}, {"reach", o.reach}, {"first", o.first}};
}

inline void from_json(const nlohmann::json& j, FgsmCertifyOptions& o)
{
    const std::string who = "FgsmCertifyOptions";
    detail::json_check_keys(j, {"enabled", "leaf", "chunk", "reach", "first"}, who);
    detail::json_read(j, "enabled", o.enabled, who);
    detail::json_read(j, "leaf", o.leaf, who);
    detail::json_read(j, "chunk", o.chunk, who);
    detail::json_read(j, "reach", o.reach, who);
    detail::json_read(j, "first", o.first, who);
}

inline void to_json(nlohmann::json& j, const FgsmGridOptions& o)
{
    j = {{"refine_steps", o.refine_steps}, {"refine_below", o.refine_below}, {"certify", o.certify}};
}

inline void from_json(const nlohmann::json& j, FgsmGridOptions& o)
{
    const std::string who = "FgsmGridOptions";
    detail::json_check_keys(j, {"refine_steps", "refine_below", "certify"}, who);
    detail::json_read(j, "refine_steps", o.refine_steps, who);
    detail::json_read(j, "refine_below", o.refine_below, who);
    detail::json_read_nested(j, "certify", o.certify, who);
}

inline void to_json(nlohmann::json& j, const FgsmBisectionOptions& o)
{
    j = {{"stride", o.stride}, {"iterations", o.iterations}};
}

inline void from_json(const nlohmann::json& j, FgsmBisectionOptions& o)
{
    const std::string who = "FgsmBisectionOptions";
    detail::json_check_keys(j, {"stride", "iterations"}, who);
    detail::json_read(j, "stride", o.stride, who);
    detail::json_read(j, "iterations", o.iterations, who);
}

inline void to_json(nlohmann::json& j, const FgsmOptions& o)
{
    j = {{"search", to_string(o.search)},
         {"steps", o.steps},
         {"max_epsilon", o.max_epsilon},
         {"loss", to_string(o.loss)},
         {"bounds", o.bounds},
         {"batch_rows", o.batch_rows},
         {"grid", o.grid},
         {"bisection", o.bisection}};
}

inline void from_json(const nlohmann::json& j, FgsmOptions& o)
{
    const std::string who = "FgsmOptions";
    detail::json_check_keys(j, {"search", "steps", "max_epsilon", "loss", "bounds", "batch_rows", "grid", "bisection"},
                            who);
    detail::json_read_enum(j, "search", o.search, who);
    detail::json_read(j, "steps", o.steps, who);
    detail::json_read(j, "max_epsilon", o.max_epsilon, who);
    detail::json_read_enum(j, "loss", o.loss, who);
    detail::json_read_nested(j, "bounds", o.bounds, who);
    detail::json_read(j, "batch_rows", o.batch_rows, who);
    detail::json_read_nested(j, "grid", o.grid, who);
    detail::json_read_nested(j, "bisection", o.bisection, who);
}

inline void to_json(nlohmann::json& j, const DeepFoolOptions& o)
{
    j = {{"max_iterations", o.max_iterations},
         {"candidates", o.candidates},
         {"overshoot", o.overshoot},
         {"mode", to_string(o.mode)},
         {"clip", o.clip},
         {"bounds", o.bounds},
         {"batch", o.batch}};
}

inline void from_json(const nlohmann::json& j, DeepFoolOptions& o)
{
    const std::string who = "DeepFoolOptions";
    detail::json_check_keys(j, {"max_iterations", "candidates", "overshoot", "mode", "clip", "bounds", "batch"}, who);
    detail::json_read(j, "max_iterations", o.max_iterations, who);
    detail::json_read(j, "candidates", o.candidates, who);
    detail::json_read(j, "overshoot", o.overshoot, who);
    detail::json_read_enum(j, "mode", o.mode, who);
    detail::json_read(j, "clip", o.clip, who);
    detail::json_read_nested(j, "bounds", o.bounds, who);
    detail::json_read(j, "batch", o.batch, who);
}

inline void to_json(nlohmann::json& j, const PgdOptions& o)
{
    std::vector<std::string> losses;
    for (LogitLoss l : o.losses) losses.push_back(to_string(l));
    j = {{"method", to_string(o.method)},
         {"norm", to_string(o.norm)},
         {"losses", losses},
         {"steps", o.steps},
         {"restarts", o.restarts},
         {"random_start", o.random_start},
         {"step_size", o.step_size},
         {"targets", o.targets},
         {"bounds", o.bounds},
         {"batch", o.batch}};
}

inline void from_json(const nlohmann::json& j, PgdOptions& o)
{
    const std::string who = "PgdOptions";
    detail::json_check_keys(
        j, {"method", "norm", "losses", "steps", "restarts", "random_start", "step_size", "targets", "bounds", "batch"},
        who);
    detail::json_read_enum(j, "method", o.method, who);
    detail::json_read_enum(j, "norm", o.norm, who);
    detail::json_read_enum_list(j, "losses", o.losses, who);
    detail::json_read(j, "steps", o.steps, who);
    detail::json_read(j, "restarts", o.restarts, who);
    detail::json_read(j, "random_start", o.random_start, who);
    detail::json_read(j, "step_size", o.step_size, who);
    detail::json_read(j, "targets", o.targets, who);
    detail::json_read_nested(j, "bounds", o.bounds, who);
    detail::json_read(j, "batch", o.batch, who);
}

inline void to_json(nlohmann::json& j, const MinimalEpsilonSearch& s)
{
    j = {{"max_epsilon", s.max_epsilon}, {"tolerance", s.tolerance}, {"split", s.split}, {"warm_start", s.warm_start}};
}

inline void from_json(const nlohmann::json& j, MinimalEpsilonSearch& s)
{
    const std::string who = "MinimalEpsilonSearch";
    detail::json_check_keys(j, {"max_epsilon", "tolerance", "split", "warm_start"}, who);
    detail::json_read(j, "max_epsilon", s.max_epsilon, who);
    detail::json_read(j, "tolerance", s.tolerance, who);
    detail::json_read(j, "split", s.split, who);
    detail::json_read(j, "warm_start", s.warm_start, who);
}

inline void to_json(nlohmann::json& j, const FmnOptions& o)
{
    j = {{"norm", to_string(o.norm)},  {"steps", o.steps},
         {"alpha_init", o.alpha_init}, {"alpha_final", o.alpha_final},
         {"gamma_init", o.gamma_init}, {"gamma_final", o.gamma_final},
         {"bounds", o.bounds},         {"batch", o.batch}};
}

inline void from_json(const nlohmann::json& j, FmnOptions& o)
{
    const std::string who = "FmnOptions";
    detail::json_check_keys(
        j, {"norm", "steps", "alpha_init", "alpha_final", "gamma_init", "gamma_final", "bounds", "batch"}, who);
    detail::json_read_enum(j, "norm", o.norm, who);
    detail::json_read(j, "steps", o.steps, who);
    detail::json_read(j, "alpha_init", o.alpha_init, who);
    detail::json_read(j, "alpha_final", o.alpha_final, who);
    detail::json_read(j, "gamma_init", o.gamma_init, who);
    detail::json_read(j, "gamma_final", o.gamma_final, who);
    detail::json_read_nested(j, "bounds", o.bounds, who);
    detail::json_read(j, "batch", o.batch, who);
}

inline void to_json(nlohmann::json& j, const SquareOptions& o)
{
    j = {{"queries", o.queries},   {"p_init", o.p_init}, {"height", o.height}, {"width", o.width},
         {"channels", o.channels}, {"bounds", o.bounds}, {"batch", o.batch}};
}

inline void from_json(const nlohmann::json& j, SquareOptions& o)
{
    const std::string who = "SquareOptions";
    detail::json_check_keys(j, {"queries", "p_init", "height", "width", "channels", "bounds", "batch"}, who);
    detail::json_read(j, "queries", o.queries, who);
    detail::json_read(j, "p_init", o.p_init, who);
    detail::json_read(j, "height", o.height, who);
    detail::json_read(j, "width", o.width, who);
    detail::json_read(j, "channels", o.channels, who);
    detail::json_read_nested(j, "bounds", o.bounds, who);
    detail::json_read(j, "batch", o.batch, who);
}

/// Options of type O from JSON text: `base` with the keys of the text's object overlaid
/// (from_json above); errors name `name` (format_error: not JSON; invalid_argument: a bad
/// key or value).
template <class O>
inline O attack_options_from_string(const std::string& text, const std::string& name = "<string>", O base = O{})
{
    const nlohmann::json j = detail::parse_json_text(text, name);
    try {
        from_json(j, base);
    } catch (const invalid_argument& e) {
        throw invalid_argument(name + ": " + e.what());
    }
    return base;
}

}  // namespace sleepnet
