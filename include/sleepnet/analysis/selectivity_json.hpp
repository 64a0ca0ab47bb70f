#pragma once
// JSON of a selectivity analysis (ADL adapter of nlohmann::json): `nlohmann::json j = analysis;`. Non-finite
// numbers are written as null (json_number).

#include <cstddef>
#include <utility>

#include <nlohmann/json.hpp>

#include "../core/json.hpp"
#include "selectivity.hpp"

namespace sleepnet {

/// {"top_k", "selection", "counts", "layers": [{"layer", "units", "k", "before_max",
/// "after_max", "classes": [{"class", "before", "after", "before_normalized",
/// "after_normalized", "neurons_before", "neurons_after"}]}]}; NaN is null.
inline void to_json(nlohmann::json& j, const SelectivityAnalysis& s)
{
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : s.layers) {
        nlohmann::json cls = nlohmann::json::array();
        for (const auto& c : l.classes) {
            cls.push_back({{"class", c.cls},
                           {"before", json_number(c.before)},
                           {"after", json_number(c.after)},
                           {"before_normalized", json_number(c.before_normalized)},
                           {"after_normalized", json_number(c.after_normalized)},
                           {"neurons_before", c.neurons_before},
                           {"neurons_after", c.neurons_after}});
        }
        layers.push_back({{"layer", l.layer},
                          {"units", l.units},
                          {"k", l.k},
                          {"before_max", json_number(l.before_max)},
                          {"after_max", json_number(l.after_max)},
                          {"classes", cls}});
    }
    j = nlohmann::json{
        {"top_k", s.top_k}, {"selection", to_string(s.selection)}, {"counts", s.counts}, {"layers", layers}};
}

}  // namespace sleepnet
