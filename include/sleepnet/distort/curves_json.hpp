#pragma once
// JSON of accuracy curves (ADL adapters of nlohmann::json): a CurvePoint is
// {"level": ..., "accuracy": ...}, a curve (std::vector<CurvePoint>) the list of them.
// Reading is strict: both keys are required, any other key is an error.

#include <string>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../core/json.hpp"
#include "curves.hpp"

namespace sleepnet {

inline void to_json(nlohmann::json& j, const CurvePoint& p)
{
    j = nlohmann::json::object();
    j["level"] = p.level;
    j["accuracy"] = p.accuracy;
}

inline void from_json(const nlohmann::json& j, CurvePoint& p)
{
    const std::string who = "curve point";
    detail::json_check_keys(j, {"level", "accuracy"}, who);
    if (!j.contains("level") || !j.contains("accuracy")) throw invalid_argument(who + ": needs 'level' and 'accuracy'");
    detail::json_read(j, "level", p.level, who);
    detail::json_read(j, "accuracy", p.accuracy, who);
}

}  // namespace sleepnet
