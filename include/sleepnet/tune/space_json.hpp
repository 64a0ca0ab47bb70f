#pragma once
// JSON for the search space (tune/space.hpp), as the tune log header records it: ranges as
// {"lo", "hi", "log"}, the base parameters, and the optional genes only when they are on
// (so logs of searches without them stay valid).

#include <nlohmann/json.hpp>

#include "../snn/sleep_json.hpp"
#include "space.hpp"

namespace sleepnet {

inline void to_json(nlohmann::json& j, const ParamRange& r) { j = {{"lo", r.lo}, {"hi", r.hi}, {"log", r.log}}; }

inline void to_json(nlohmann::json& j, const SearchSpace& s)
{
    j = nlohmann::json::object();
    j["base"] = s.base;
    j["rate"] = s.rate;
    j["inc"] = s.inc;
    j["dec"] = s.dec;
    j["alpha_scale"] = s.alpha_scale;
    j["steps"] = s.steps;
    j["threshold"] = s.threshold;
    if (!s.per_layer_threshold.empty()) j["per_layer_threshold"] = s.per_layer_threshold;
    j["inputs"] = nlohmann::json::array();
    for (auto i : s.inputs) j["inputs"].push_back(to_string(i));
    if (s.decay) j["decay"] = *s.decay;
    if (!s.rules.empty()) {
        j["rules"] = nlohmann::json::array();
        for (auto r : s.rules) j["rules"].push_back(to_string(r));
    }
    if (!s.normalizations.empty()) {
        j["normalizations"] = nlohmann::json::array();
        for (auto c : s.normalizations) j["normalizations"].push_back(to_string(c));
    }
    if (s.vary_include_output) j["vary_include_output"] = true;
}

}  // namespace sleepnet
