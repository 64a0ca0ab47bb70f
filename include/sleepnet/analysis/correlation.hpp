#pragma once
// Class-by-class correlations of layer activities (paper Fig. 8-10, appendix 8.4).
//
// For each layer (numbering: analysis/activations.hpp) a classes x classes matrix C, in
// one of two definitions:
//
// - CorrelationMethod::class_means (default): the Pearson correlation between the
//   classes' mean activation vectors. m_c = mean over the samples of class c of the
//   layer's (test-mode) activation vector; C(i, j) = pearson(m_i, m_j), the correlation
//   over the layer's units. Symmetric, unit diagonal.
// - CorrelationMethod::mean_pairwise: the paper's wording ("for each pair of digits, the
//   average correlation of layer activities"): C(i, j) = mean over sample pairs (s in
//   class i, t in class j, s != t) of pearson(a_s, a_t). The diagonal is then the mean
//   correlation between DIFFERENT exemplars of the same class (below 1), the quantity
//   whose increase the paper reports after sleep. Computed exactly in O(N units): with
//   z_s = (a_s - mean(a_s)) / ||a_s - mean(a_s)||, pearson(a_s, a_t) = z_s . z_t, so
//   C(i, j) = (S_i . S_j) / (n_i n_j) and C(i, i) = (S_i . S_i - sum_s z_s . z_s) /
//   (n_i (n_i - 1)) with S_c = sum of z_s over class c.
//
// Undefined values are NaN (JSON null): a constant mean vector (class_means; e.g. a class
// that silences the whole layer), a class with no usable sample, or a diagonal entry of a
// class with fewer than two usable samples (mean_pairwise). In mean_pairwise, samples
// whose activation vector is constant (all units equal, typically a silent ReLU layer)
// have no Pearson correlation with anything; they are left out and counted in
// `excluded`.
//
// The paper's figures show differences, defense minus control:
// correlation_difference(defense, control).

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "../core/enum_names.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../nn/dense_network.hpp"
#include "activations.hpp"

namespace sleepnet {

enum class CorrelationMethod { class_means, mean_pairwise };

template <>
struct EnumNames<CorrelationMethod> {
    static constexpr const char* kind = "correlation method";
    static constexpr EnumName<CorrelationMethod> table[] = {{CorrelationMethod::class_means, "class_means"},
                                                            {CorrelationMethod::mean_pairwise, "mean_pairwise"}};
};

struct LayerCorrelation {
    std::size_t layer = 0;  ///< 0-based, as DenseNetwork::activations()
    std::size_t units = 0;
    matrix<double> correlation;         ///< classes x classes
    std::vector<std::size_t> excluded;  ///< mean_pairwise: constant-activation samples left out, per class
};

struct CorrelationAnalysis {
    CorrelationMethod method = CorrelationMethod::class_means;
    std::size_t classes = 0;
    std::vector<std::size_t> counts;  ///< samples per class
    std::vector<LayerCorrelation> layers;
};

/// Pearson correlation between the rows of v (r x d): an r x r symmetric matrix with unit
/// diagonal; rows that are constant (including d = 1) give NaN rows and columns.
/// Throws invalid_argument for an empty matrix.
inline matrix<double> pearson_rows(const matrix<double>& v)
{
    const std::size_t r = v.shape()[0];
    const std::size_t d = v.shape()[1];
    if (r == 0 || d == 0) {
        throw invalid_argument("pearson_rows: empty matrix " + detail::shape_string(v));
    }
    matrix<double> z = matrix<double>::from_shape({r, d});
    std::vector<bool> ok(r, false);
    for (std::size_t i = 0; i < r; ++i) {
        double mean = 0.0;
        for (std::size_t u = 0; u < d; ++u) mean += v(i, u);
        mean /= static_cast<double>(d);
        double ss = 0.0;
        for (std::size_t u = 0; u < d; ++u) {
            z(i, u) = v(i, u) - mean;
            ss += z(i, u) * z(i, u);
        }
        ok[i] = ss > 0.0 && std::isfinite(ss);
        const double inv = ok[i] ? 1.0 / std::sqrt(ss) : 0.0;
        for (std::size_t u = 0; u < d; ++u) z(i, u) *= inv;
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    matrix<double> c = matrix<double>::from_shape({r, r});
    for (std::size_t i = 0; i < r; ++i) {
        c(i, i) = ok[i] ? 1.0 : nan;
        for (std::size_t j = i + 1; j < r; ++j) {
            double s = 0.0;
            if (ok[i] && ok[j]) {
                for (std::size_t u = 0; u < d; ++u) s += z(i, u) * z(j, u);
                s = std::max(-1.0, std::min(1.0, s));
            } else {
                s = nan;
            }
            c(i, j) = c(j, i) = s;
        }
    }
    return c;
}

namespace detail {

template <class T>
inline CorrelationAnalysis mean_pairwise_correlations(const DenseNetwork<T>& net, const matrix<T>& x,
                                                      const label_vector& y, std::size_t classes)
{
    const std::size_t layers = net.num_layers();
    CorrelationAnalysis out;
    out.method = CorrelationMethod::mean_pairwise;
    out.classes = classes;
    out.counts.assign(classes, 0);
    for (std::size_t i = 0; i < y.size(); ++i) ++out.counts[y(i)];
    std::vector<matrix<double>> sums;          // per layer: classes x units, sum of z_s
    std::vector<std::vector<double>> selfdot;  // per layer, class: sum of z_s . z_s
    std::vector<std::vector<std::size_t>> used(layers, std::vector<std::size_t>(classes, 0));
    for (std::size_t l = 0; l < layers; ++l) {
        matrix<double> m = matrix<double>::from_shape({classes, net.layer_sizes()[l + 1]});
        m.fill(0.0);
        sums.push_back(std::move(m));
        selfdot.emplace_back(classes, 0.0);
    }
    std::vector<double> z;
    detail::for_each_activation_chunk(net, x, [&](std::size_t start, const std::vector<matrix<T>>& acts) {
        for (std::size_t l = 0; l < layers; ++l) {
            const matrix<T>& a = acts[l];
            const std::size_t units = a.shape()[1];
            z.resize(units);
            for (std::size_t i = 0; i < a.shape()[0]; ++i) {
                const std::size_t c = y(start + i);
                const T* row = a.data() + i * units;
                double mean = 0.0;
                for (std::size_t u = 0; u < units; ++u) mean += static_cast<double>(row[u]);
                mean /= static_cast<double>(units);
                double ss = 0.0;
                for (std::size_t u = 0; u < units; ++u) {
                    z[u] = static_cast<double>(row[u]) - mean;
                    ss += z[u] * z[u];
                }
                if (!(ss > 0.0) || !std::isfinite(ss)) continue;  // constant vector: no correlation
                const double inv = 1.0 / std::sqrt(ss);
                double* acc = sums[l].data() + c * units;
                double dot = 0.0;
                for (std::size_t u = 0; u < units; ++u) {
                    const double v = z[u] * inv;
                    acc[u] += v;
                    dot += v * v;
                }
                selfdot[l][c] += dot;
                ++used[l][c];
            }
        }
    });
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t l = 0; l < layers; ++l) {
        LayerCorrelation lc;
        lc.layer = l;
        lc.units = net.layer_sizes()[l + 1];
        lc.correlation = matrix<double>::from_shape({classes, classes});
        lc.excluded.resize(classes);
        const matrix<double>& s = sums[l];
        for (std::size_t i = 0; i < classes; ++i) {
            lc.excluded[i] = out.counts[i] - used[l][i];
            for (std::size_t j = i; j < classes; ++j) {
                double dot = 0.0;
                for (std::size_t u = 0; u < lc.units; ++u) dot += s(i, u) * s(j, u);
                const double ni = static_cast<double>(used[l][i]);
                const double nj = static_cast<double>(used[l][j]);
                double v = nan;
                if (i == j) {
                    if (used[l][i] >= 2) v = (dot - selfdot[l][i]) / (ni * (ni - 1.0));
                } else if (used[l][i] > 0 && used[l][j] > 0) {
                    v = dot / (ni * nj);
                }
                lc.correlation(i, j) = lc.correlation(j, i) = v;
            }
        }
        out.layers.push_back(std::move(lc));
    }
    return out;
}

}  // namespace detail

/// Class-by-class correlation matrices of every layer's test-mode activations on (x, y).
/// Throws invalid_argument on empty or mismatched input, labels >= classes, or a class
/// without samples.
template <class T>
inline CorrelationAnalysis layer_correlations(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                              std::size_t classes,
                                              CorrelationMethod method = CorrelationMethod::class_means)
{
    detail::check_analysis_inputs(net, x, y, classes, "layer_correlations");
    if (method == CorrelationMethod::mean_pairwise) {
        std::vector<std::size_t> counts(classes, 0);
        for (std::size_t i = 0; i < y.size(); ++i) ++counts[y(i)];
        for (std::size_t c = 0; c < classes; ++c) {
            if (counts[c] == 0) {
                throw invalid_argument("layer_correlations: class " + std::to_string(c) + " has no samples");
            }
        }
        return detail::mean_pairwise_correlations(net, x, y, classes);
    }
    const ClassActivationStats stats = class_activation_stats(net, x, y, classes, "layer_correlations");
    CorrelationAnalysis out;
    out.method = method;
    out.classes = classes;
    out.counts = stats.counts;
    for (std::size_t l = 0; l < stats.means.size(); ++l) {
        LayerCorrelation lc;
        lc.layer = l;
        lc.units = stats.means[l].shape()[1];
        lc.correlation = pearson_rows(stats.means[l]);
        lc.excluded.assign(classes, 0);
        out.layers.push_back(std::move(lc));
    }
    return out;
}

/// a - b, layer by layer (the paper's figures: defense minus control). Throws
/// invalid_argument when the analyses differ in method, classes or layer shapes.
inline CorrelationAnalysis correlation_difference(const CorrelationAnalysis& a, const CorrelationAnalysis& b)
{
    if (a.method != b.method || a.classes != b.classes || a.layers.size() != b.layers.size()) {
        throw invalid_argument("correlation_difference: the analyses differ (method " + to_string(a.method) + " vs " +
                               to_string(b.method) + ", classes " + std::to_string(a.classes) + " vs " +
                               std::to_string(b.classes) + ", layers " + std::to_string(a.layers.size()) + " vs " +
                               std::to_string(b.layers.size()) + ")");
    }
    CorrelationAnalysis d = a;
    for (std::size_t l = 0; l < a.layers.size(); ++l) {
        if (a.layers[l].correlation.shape() != b.layers[l].correlation.shape()) {
            throw invalid_argument("correlation_difference: layer " + std::to_string(l) + " matrices have shapes " +
                                   detail::shape_string(a.layers[l].correlation) + " and " +
                                   detail::shape_string(b.layers[l].correlation));
        }
        d.layers[l].correlation = a.layers[l].correlation - b.layers[l].correlation;
    }
    return d;
}

}  // namespace sleepnet
