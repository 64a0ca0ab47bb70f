#pragma once
// JSON of weight spreads and of Fig. 4's scatter (ADL adapter of nlohmann::json): `nlohmann::json j = spread;`, weight_scatter_json(). Non-finite
// numbers are written as null (json_number).

#include <cstddef>
#include <utility>

#include <nlohmann/json.hpp>

#include "../core/json.hpp"
#include "weights.hpp"

namespace sleepnet {

/// The data of Fig. 4: per output neuron, the weight from every input pixel and the
/// pixel's category for that neuron's class:
/// [{"neuron": k, "weights": [...], "category": ["on" | "overlap" | "off", ...]}, ...].
template <class T>
inline nlohmann::json weight_scatter_json(const matrix<T>& weights, const matrix<T>& prototypes, double threshold = 0.5)
{
    if (weights.shape() != prototypes.shape()) {
        throw invalid_argument("weight_scatter_json: weights have shape " + detail::shape_string(weights) +
                               " but the prototypes have shape " + detail::shape_string(prototypes));
    }
    const auto cat = pixel_categories(prototypes, threshold);
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t k = 0; k < weights.shape()[0]; ++k) {
        nlohmann::json w = nlohmann::json::array(), c = nlohmann::json::array();
        for (std::size_t p = 0; p < weights.shape()[1]; ++p) {
            w.push_back(json_number(static_cast<double>(weights(k, p))));
            c.push_back(to_string(cat[k][p]));
        }
        out.push_back({{"neuron", k}, {"weights", w}, {"category", c}});
    }
    return out;
}

inline void to_json(nlohmann::json& j, const WeightSpread& s)
{
    nlohmann::json cls = nlohmann::json::array();
    for (const auto& c : s.classes) {
        cls.push_back({{"class", c.cls},
                       {"on", c.on},
                       {"exclusive", c.exclusive},
                       {"overlap", c.overlap},
                       {"off", c.off},
                       {"mean_on", json_number(c.mean_on)},
                       {"mean_exclusive", json_number(c.mean_exclusive)},
                       {"mean_overlap", json_number(c.mean_overlap)},
                       {"mean_off", json_number(c.mean_off)},
                       {"spread", json_number(c.spread)},
                       {"spread_exclusive", json_number(c.spread_exclusive)}});
    }
    j = nlohmann::json{{"mean_spread", json_number(s.mean_spread)}, {"classes", cls}};
}

}  // namespace sleepnet
