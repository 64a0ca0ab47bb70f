#pragma once
// Summary statistics of a sample: count, mean, sample standard deviation, minimum and
// maximum, e.g. one cell of a table measured on several independently trained networks.
//
// - sd is the SAMPLE standard deviation, sqrt(sum (x - mean)^2 / (n - 1)) (two passes).
// - NaN marks a missing value: NaNs are left out and counted in `missing`; n counts the
//   others. With n = 0 every statistic is NaN; with n = 1 mean = min = max = the value and
//   sd is NaN (one value says nothing about the spread; it is not 0).
// - Infinities are values: they follow IEEE arithmetic (mean +inf if one is +inf, sd NaN
//   when one is infinite, min/max as usual). A caller that means "failed" by +inf and
//   wants the finite values summarised drops them first (see summarize_finite).

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace sleepnet {

struct Summary {
    std::size_t n = 0;        ///< values summarised (NaNs left out)
    std::size_t missing = 0;  ///< NaNs left out
    double mean = std::numeric_limits<double>::quiet_NaN();
    double sd = std::numeric_limits<double>::quiet_NaN();  ///< sample sd (n - 1); NaN if n < 2
    double min = std::numeric_limits<double>::quiet_NaN();
    double max = std::numeric_limits<double>::quiet_NaN();
};

/// Count, mean, sample sd, min and max of `values` (NaNs left out, see the header).
inline Summary summarize(const std::vector<double>& values)
{
    Summary s;
    double sum = 0.0;
    for (double v : values) {
        if (std::isnan(v)) {
            ++s.missing;
            continue;
        }
        if (s.n == 0 || v < s.min) s.min = v;
        if (s.n == 0 || v > s.max) s.max = v;
        sum += v;
        ++s.n;
    }
    if (s.n == 0) return s;
    s.mean = sum / static_cast<double>(s.n);
    if (s.n < 2) return s;
    double ss = 0.0;
    for (double v : values)
        if (!std::isnan(v)) ss += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(ss / static_cast<double>(s.n - 1));
    return s;
}

/// summarize() of the finite values only; infinities are counted in `infinite`.
struct FiniteSummary {
    Summary finite;
    std::size_t infinite = 0;
};

inline FiniteSummary summarize_finite(const std::vector<double>& values)
{
    FiniteSummary f;
    std::vector<double> kept;
    for (double v : values) {
        if (std::isinf(v))
            ++f.infinite;
        else
            kept.push_back(v);
    }
    f.finite = summarize(kept);
    return f;
}

}  // namespace sleepnet
