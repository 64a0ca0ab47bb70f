#pragma once
// What continual-learning results are summarised by (continual/continual.hpp), from the
// accuracy matrix R: R[i][j] = accuracy on task j's test rows after training task i (and
// sleeping after it, where the method sleeps).
//   average accuracy after task i   A_i = mean_{j <= i} R[i][j]
//   backward transfer (Lopez-Paz & Ranzato 2017)  BWT = mean_{j < T-1} (R[T-1][j] - R[j][j])
//   forgetting (Chaudhry et al. 2018)  F = mean_{j < T-1} (max_{i < T-1} R[i][j] - R[T-1][j])
// BWT and F are NaN with fewer than two tasks.

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "../core/error.hpp"

namespace sleepnet {

using AccuracyMatrix = std::vector<std::vector<double>>;

namespace detail {

/// Throws unless R is square (T x T, T > 0).
inline std::size_t check_accuracy_matrix(const AccuracyMatrix& r, const char* who)
{
    if (r.empty()) throw invalid_argument(std::string(who) + ": empty accuracy matrix");
    for (std::size_t i = 0; i < r.size(); ++i)
        if (r[i].size() != r.size())
            throw invalid_argument(std::string(who) + ": row " + std::to_string(i) + " has " +
                                   std::to_string(r[i].size()) + " entries, expected " + std::to_string(r.size()));
    return r.size();
}

}  // namespace detail

/// A_i for every i (mean of row i over tasks 0 .. i).
inline std::vector<double> average_accuracy(const AccuracyMatrix& r)
{
    const std::size_t t = detail::check_accuracy_matrix(r, "average_accuracy");
    std::vector<double> out(t, 0.0);
    for (std::size_t i = 0; i < t; ++i) {
        for (std::size_t j = 0; j <= i; ++j) out[i] += r[i][j];
        out[i] /= static_cast<double>(i + 1);
    }
    return out;
}

inline double backward_transfer(const AccuracyMatrix& r)
{
    const std::size_t t = detail::check_accuracy_matrix(r, "backward_transfer");
    if (t < 2) return std::numeric_limits<double>::quiet_NaN();
    double sum = 0.0;
    for (std::size_t j = 0; j + 1 < t; ++j) sum += r[t - 1][j] - r[j][j];
    return sum / static_cast<double>(t - 1);
}

inline double forgetting(const AccuracyMatrix& r)
{
    const std::size_t t = detail::check_accuracy_matrix(r, "forgetting");
    if (t < 2) return std::numeric_limits<double>::quiet_NaN();
    double sum = 0.0;
    for (std::size_t j = 0; j + 1 < t; ++j) {
        double best = r[j][j];
        for (std::size_t i = j; i + 1 < t; ++i) best = std::max(best, r[i][j]);
        sum += best - r[t - 1][j];
    }
    return sum / static_cast<double>(t - 1);
}

}  // namespace sleepnet
