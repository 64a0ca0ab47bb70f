#pragma once
// JSON of attack results (ADL adapters of nlohmann::json): `nlohmann::json j = sample;`
// writes index, label, prediction (the clean prediction), attempted, success,
// adversarial_prediction, distance (null on failure), epsilon (only for attacks that
// report one; null on failure) and iterations; `nlohmann::json j = result;` writes
// {"attack", "attempted", "successes", "rows": [one sample each]}. A sample reads back
// strictly (unknown keys are errors; null distance or epsilon is +inf, an absent epsilon NaN).

#include <cmath>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "../core/json.hpp"
#include "common.hpp"

namespace sleepnet {

inline void to_json(nlohmann::json& j, const AttackSample& s)
{
    j = nlohmann::json::object();
    j["index"] = s.index;
    j["label"] = s.label;
    j["prediction"] = s.clean_prediction;
    j["attempted"] = s.attempted;
    j["success"] = s.success;
    j["adversarial_prediction"] = s.adversarial_prediction;
    j["distance"] = json_number(s.distance);
    if (!std::isnan(s.epsilon)) j["epsilon"] = json_number(s.epsilon);
    j["iterations"] = s.iterations;
}

namespace detail {

/// A json_number read back: null is +inf.
inline void json_read_number(const nlohmann::json& j, const char* key, double& into, const std::string& who)
{
    if (j.contains(key) && j.at(key).is_null())
        into = std::numeric_limits<double>::infinity();
    else
        json_read(j, key, into, who);
}

}  // namespace detail

inline void from_json(const nlohmann::json& j, AttackSample& s)
{
    const std::string who = "attack sample";
    detail::json_check_keys(j,
                            {"index", "label", "prediction", "attempted", "success", "adversarial_prediction",
                             "distance", "epsilon", "iterations"},
                            who);
    detail::json_read(j, "index", s.index, who);
    detail::json_read(j, "label", s.label, who);
    detail::json_read(j, "prediction", s.clean_prediction, who);
    detail::json_read(j, "attempted", s.attempted, who);
    detail::json_read(j, "success", s.success, who);
    detail::json_read(j, "adversarial_prediction", s.adversarial_prediction, who);
    detail::json_read_number(j, "distance", s.distance, who);
    if (!j.contains("epsilon")) s.epsilon = std::numeric_limits<double>::quiet_NaN();
    detail::json_read_number(j, "epsilon", s.epsilon, who);
    detail::json_read(j, "iterations", s.iterations, who);
}

template <class T>
inline void to_json(nlohmann::json& j, const AttackResult<T>& r)
{
    j = nlohmann::json::object();
    j["attack"] = r.attack;
    j["attempted"] = r.attempted();
    j["successes"] = r.successes();
    j["rows"] = r.samples;
}

}  // namespace sleepnet
