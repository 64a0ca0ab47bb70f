#pragma once
// Tensor aliases used across sleepnet. Public functions return these concrete,
// evaluated containers (never lazy expressions built from locals).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

namespace sleepnet {

template <class T>
using matrix = xt::xtensor<T, 2>;  ///< row-major, rows are samples (or output units for weights)

template <class T>
using vector = xt::xtensor<T, 1>;

using label_vector = xt::xtensor<std::size_t, 1>;  ///< class indices

namespace detail {

inline std::string shape_string(const std::vector<std::size_t>& shape)
{
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        s += std::to_string(shape[i]);
        if (i + 1 < shape.size() || shape.size() == 1) {
            s += shape.size() == 1 ? "," : ", ";
        }
    }
    return s + ")";
}

template <class E>
inline std::string shape_string(const E& e)
{
    return shape_string(std::vector<std::size_t>(e.shape().begin(), e.shape().end()));
}

}  // namespace detail
}  // namespace sleepnet
