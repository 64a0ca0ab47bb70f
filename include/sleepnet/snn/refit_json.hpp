#pragma once
// JSON for refit (snn/refit.hpp): the "refit" object of a sleep parameter file, a
// RefitPlan with flat keys
//   {"frozen_layers": 1, "samples": 0, "epochs": 2, "learning_rate": 0.05, "momentum": 0.5,
//    "batch_size": 100, "loss": "mse"|"ce", "temperature": 1, "seed": 1}
// (SgdOptions::weight_decay and shuffle are not part of the format: refit's parameter files
// leave them at their defaults). Readers are strict: unknown keys, negative or fractional
// counts and values of the wrong type are errors naming the key.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "../core/json.hpp"
#include "refit.hpp"

namespace sleepnet {

inline void to_json(nlohmann::json& j, const RefitOptions& o)
{
    j = nlohmann::json::object();
    j["frozen_layers"] = o.sgd.frozen_layers;
    j["samples"] = o.samples;
    j["epochs"] = o.sgd.epochs;
    j["learning_rate"] = o.sgd.learning_rate;
    j["momentum"] = o.sgd.momentum;
    j["batch_size"] = o.sgd.batch_size;
    j["loss"] = to_string(o.loss);
    j["temperature"] = o.temperature;
}

/// The options' keys and "seed".
inline void to_json(nlohmann::json& j, const RefitPlan& plan)
{
    to_json(j, plan.options);
    j["seed"] = plan.seed;
}

/// Overlays the keys of a "refit" object onto plan (absent keys keep their values); does
/// not validate (refit_plan_from_json does).
inline void from_json(const nlohmann::json& j, RefitPlan& plan)
{
    detail::json_check_keys(j,
                            {"frozen_layers", "samples", "epochs", "learning_rate", "momentum", "batch_size", "loss",
                             "temperature", "seed"},
                            "refit options");
    const std::string who = "refit options";
    RefitOptions& o = plan.options;
    detail::json_read(j, "frozen_layers", o.sgd.frozen_layers, who);  // counts: kind and range checked
    detail::json_read(j, "samples", o.samples, who);
    detail::json_read(j, "epochs", o.sgd.epochs, who);
    detail::json_read(j, "batch_size", o.sgd.batch_size, who);
    detail::json_read(j, "seed", plan.seed, who);
    detail::json_read(j, "learning_rate", o.sgd.learning_rate, who);
    detail::json_read(j, "momentum", o.sgd.momentum, who);
    detail::json_read(j, "temperature", o.temperature, who);
    detail::json_read_enum(j, "loss", o.loss, who);
}

/// Reads a "refit" object over the defaults and validates the options.
inline RefitPlan refit_plan_from_json(const nlohmann::json& j)
{
    RefitPlan plan;
    from_json(j, plan);
    plan.options.validate();
    return plan;
}

/// The "refit" object of the text of a sleep parameter file, if it has one; errors name `name`.
inline std::optional<RefitPlan> refit_plan_from_string(const std::string& text, const std::string& name = "<string>")
{
    const nlohmann::json j = detail::parse_json_text(text, name);
    if (!j.is_object() || !j.contains("refit")) return std::nullopt;
    try {
        return refit_plan_from_json(j["refit"]);
    } catch (const invalid_argument& e) {
        throw invalid_argument(name + ": " + e.what());
    }
}

/// The "refit" object of a sleep parameter file, if it has one; errors name the file.
inline std::optional<RefitPlan> load_refit_plan(const std::string& path)
{
    return refit_plan_from_string(detail::read_text_file(path, "sleep parameter file"), path);
}

}  // namespace sleepnet
