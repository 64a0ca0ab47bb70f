#pragma once
// JSON of a correlation analysis (ADL adapter of nlohmann::json): `nlohmann::json j = analysis;`. Non-finite
// numbers are written as null (json_number).

#include <cstddef>
#include <utility>

#include <nlohmann/json.hpp>

#include "../core/json.hpp"
#include "correlation.hpp"

namespace sleepnet {

namespace detail {

inline nlohmann::json matrix_json(const matrix<double>& m)
{
    nlohmann::json rows = nlohmann::json::array();
    for (std::size_t i = 0; i < m.shape()[0]; ++i) {
        nlohmann::json row = nlohmann::json::array();
        for (std::size_t j = 0; j < m.shape()[1]; ++j) row.push_back(json_number(m(i, j)));
        rows.push_back(std::move(row));
    }
    return rows;
}

}  // namespace detail

/// {"method", "classes", "counts", "layers": [{"layer", "units", "correlation": [[...]],
/// "excluded"}]}; NaN entries are null.
inline void to_json(nlohmann::json& j, const CorrelationAnalysis& a)
{
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : a.layers) {
        layers.push_back({{"layer", l.layer},
                          {"units", l.units},
                          {"correlation", detail::matrix_json(l.correlation)},
                          {"excluded", l.excluded}});
    }
    j = nlohmann::json{
        {"method", to_string(a.method)}, {"classes", a.classes}, {"counts", a.counts}, {"layers", layers}};
}

}  // namespace sleepnet
