#pragma once
// JSON of sleep parameters and reports (ADL adapters of nlohmann::json):
//
//   nlohmann::json j = params;                 // SleepParams, SleepReport (both read back)
//   SleepParams p = base; from_json(j, p);     // overlays the keys j has onto p
//   SleepParams q = j.get<SleepParams>();      // the same from SleepParams{}
//
// Parameters: {"rule": "authors"|"paper", "normalization": "authors"|"textbook"|"percentile",
//  "percentile": 99.9, "rate": 39.04, "rate_factor": 2, "dt": 0.001, "decay": 0.999,
//  "inc": 0.064, "dec": 0.069, "thresholds": [...], "alpha_scale": 2.19, "alpha": [...],
//  "steps": 27105, "input": "sequence"|"mean", "include_output": true, "provenance": "..."}.
// Reading, unknown keys and values of the wrong type are errors (a typo must not silently
// fall back to a default); a "preset" key starts from that preset (its other keys override
// the preset's values); "comment" is accepted and ignored; so is "refit", the post-sleep
// refit of snn/refit.hpp (a RefitPlan, read by refit_plan_from_json).

#include <cstdint>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../core/json.hpp"
#include "sleep.hpp"

namespace sleepnet {

inline void to_json(nlohmann::json& j, const SleepParams& p)
{
    j = nlohmann::json::object();
    j["rule"] = to_string(p.rule);
    j["normalization"] = to_string(p.normalization);
    j["percentile"] = p.percentile;
    j["rate"] = p.rate;
    j["rate_factor"] = p.rate_factor;
    j["dt"] = p.dt;
    j["decay"] = p.decay;
    j["inc"] = p.inc;
    j["dec"] = p.dec;
    j["thresholds"] = p.thresholds;
    j["alpha_scale"] = p.alpha_scale;
    if (!p.alpha.empty()) j["alpha"] = p.alpha;
    j["steps"] = p.steps;
    j["input"] = to_string(p.input);
    j["include_output"] = p.include_output;
    if (!p.provenance.empty()) j["provenance"] = p.provenance;
}

inline void from_json(const nlohmann::json& j, SleepParams& p)
{
    const std::string who = "sleep parameters";
    detail::json_check_keys(j,
                            {"rule", "normalization", "percentile", "rate", "rate_factor", "dt", "decay", "inc", "dec",
                             "thresholds", "alpha_scale", "alpha", "steps", "input", "include_output", "provenance",
                             "preset", "comment", "refit"},
                            who);
    if (j.contains("preset")) {
        if (!j.at("preset").is_string()) throw invalid_argument(who + ": 'preset' must be a string");
        p = sleep_preset(j.at("preset").get<std::string>());
    }
    detail::json_read_enum(j, "rule", p.rule, who);
    detail::json_read_enum(j, "normalization", p.normalization, who);
    detail::json_read(j, "percentile", p.percentile, who);
    detail::json_read(j, "rate", p.rate, who);
    detail::json_read(j, "rate_factor", p.rate_factor, who);
    detail::json_read(j, "dt", p.dt, who);
    detail::json_read(j, "decay", p.decay, who);
    detail::json_read(j, "inc", p.inc, who);
    detail::json_read(j, "dec", p.dec, who);
    detail::json_read(j, "thresholds", p.thresholds, who);
    detail::json_read(j, "alpha_scale", p.alpha_scale, who);
    detail::json_read(j, "alpha", p.alpha, who);
    if (j.contains("steps")) {
        const auto& s = j.at("steps");
        if (!s.is_number_integer() || s.get<std::int64_t>() <= 0)
            throw invalid_argument(who + ": steps must be a positive integer, got " + s.dump());
        p.steps = s.get<std::size_t>();
    }
    detail::json_read_enum(j, "input", p.input, who);
    detail::json_read(j, "include_output", p.include_output, who);
    detail::json_read(j, "provenance", p.provenance, who);
}

/// Parameters from JSON: `base` (or the preset a "preset" key names) with the keys j has.
inline SleepParams sleep_params_from_json(const nlohmann::json& j, SleepParams base = {})
{
    from_json(j, base);
    return base;
}

/// Sleep parameters from the text of a parameter file (the format above); errors name
/// `name` (format_error: not JSON; invalid_argument: a bad key or value).
inline SleepParams sleep_params_from_string(const std::string& text, const std::string& name = "<string>")
{
    const nlohmann::json j = detail::parse_json_text(text, name);
    try {
        return sleep_params_from_json(j);
    } catch (const invalid_argument& e) {
        throw invalid_argument(name + ": " + e.what());
    }
}

/// Reads sleep parameters from a JSON file (the format above); errors name the file.
inline SleepParams load_sleep_params(const std::string& path)
{
    return sleep_params_from_string(detail::read_text_file(path, "sleep parameter file"), path);
}

/// Checks parameters read from file `path` (load_sleep_params) for a network of
/// `weight_layers` weight layers (SleepParams::validate); errors name the file. A file that
/// gives no thresholds (neither "thresholds" nor a "preset", e.g. {}) keeps the defaults',
/// made for 784-1200-1200-10: when they do not fit, the error says the thresholds are missing.
inline void validate_sleep_params_file(const SleepParams& p, const std::string& path, std::size_t weight_layers)
{
    try {
        p.validate(weight_layers);
    } catch (const invalid_argument& e) {
        const nlohmann::json j = detail::read_json_file(path, "sleep parameter file");
        const std::size_t sim = p.simulated_layers(weight_layers);
        if (j.is_object() && !j.contains("thresholds") && !j.contains("preset") && p.thresholds.size() != sim)
            throw invalid_argument(path + ": sleep parameters: thresholds missing: the network has " +
                                   std::to_string(sim) + " simulated layers, give \"thresholds\" with " +
                                   std::to_string(sim) + " values (the defaults' " +
                                   std::to_string(p.thresholds.size()) + " are for a 784-1200-1200-10 network)");
        throw invalid_argument(path + ": " + e.what());
    }
}

inline void to_json(nlohmann::json& j, const SleepReport& r)
{
    j = nlohmann::json::object();
    j["steps"] = r.steps;
    j["stopped_early"] = r.stopped_early;
    j["input_spikes"] = r.input_spikes;
    j["spikes"] = r.spikes;
    j["neurons_spiked"] = r.neurons_spiked;
    j["neurons"] = r.neurons;
    j["weights_changed"] = r.weights_changed;
    j["weights"] = r.weights;
    j["alpha"] = r.alpha;
    j["thresholds"] = r.thresholds;
    j["seconds"] = r.seconds;
}

inline void from_json(const nlohmann::json& j, SleepReport& r)
{
    const std::string who = "sleep report";
    detail::json_check_keys(j,
                            {"steps", "stopped_early", "input_spikes", "spikes", "neurons_spiked", "neurons",
                             "weights_changed", "weights", "alpha", "thresholds", "seconds"},
                            who);
    detail::json_read(j, "steps", r.steps, who);
    detail::json_read(j, "stopped_early", r.stopped_early, who);
    detail::json_read(j, "input_spikes", r.input_spikes, who);
    detail::json_read(j, "spikes", r.spikes, who);
    detail::json_read(j, "neurons_spiked", r.neurons_spiked, who);
    detail::json_read(j, "neurons", r.neurons, who);
    detail::json_read(j, "weights_changed", r.weights_changed, who);
    detail::json_read(j, "weights", r.weights, who);
    detail::json_read(j, "alpha", r.alpha, who);
    detail::json_read(j, "thresholds", r.thresholds, who);
    detail::json_read(j, "seconds", r.seconds, who);
}

}  // namespace sleepnet
