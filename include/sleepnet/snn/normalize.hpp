#pragma once
// Data-based per-layer weight normalization for ANN-to-SNN conversion (Diehl et al. 2015).
//
// For every weight layer l the network is run in test mode on a data set and
//   s_l = max( max(0, max W_l), m_l )
// where m_l is the largest activation of layer l (NormalizationChain::authors and
// ::textbook) or a high percentile of its positive activations (::percentile, as the SNN
// Toolbox does, which ignores rare outliers). The factors are then chained:
//   textbook:   factor_l = s_{l-1} / s_l                 (s_0 = 1)
//   authors:    inv_l = s_l / prev_l, factor_l = 1 / inv_l, prev_{l+1} = inv_l  (prev_1 = 1)
//               giving [1/s1, s1/s2, s2/(s1 s3), ...]: the released normalize_nn_data.m
//               carries inv instead of s to the next layer.
//   percentile: the textbook chain on percentile-based s_l.
// Sleep uses only the factors (alpha_l = factor_l * alpha_scale); the weights stay as they
// are unless normalized_copy() is asked for.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../core/enum_names.hpp"
#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../nn/dense_network.hpp"

namespace sleepnet {

enum class NormalizationChain { authors, textbook, percentile };

template <>
struct EnumNames<NormalizationChain> {
    static constexpr const char* kind = "normalization";
    static constexpr EnumName<NormalizationChain> table[] = {{NormalizationChain::authors, "authors"},
                                                             {NormalizationChain::textbook, "textbook"},
                                                             {NormalizationChain::percentile, "percentile"}};
};

/// "authors" | "textbook" | "percentile".
inline NormalizationChain normalization_from_string(const std::string& s)
{
    return enum_from_string<NormalizationChain>(s);
}

struct NormalizationOptions {
    NormalizationChain chain = NormalizationChain::authors;
    double percentile = 99.9;  ///< for NormalizationChain::percentile, in (0, 100]
};

/// The per-layer maxima s_l and the chained factors.
struct Normalization {
    std::vector<double> max_activation;  ///< m_l (or the percentile)
    std::vector<double> max_weight;      ///< max(0, max W_l)
    std::vector<double> scale;           ///< s_l
    std::vector<double> factors;         ///< factor_l
};

/// Chains per-layer scales s_l into factors (see the top of this file). Useful on its own
/// when the maxima come from another framework's forward pass.
inline std::vector<double> chain_factors(const std::vector<double>& scale, NormalizationChain chain)
{
    std::vector<double> factors;
    double prev = 1.0;
    for (std::size_t l = 0; l < scale.size(); ++l) {
        check::finite_positive("chain_factors", "scale " + std::to_string(l + 1), scale[l]);
        if (chain == NormalizationChain::authors) {
            const double inv = scale[l] / prev;  // the released code carries inv, not s_l
            factors.push_back(1.0 / inv);
            prev = inv;
        } else {
            factors.push_back(prev / scale[l]);
            prev = scale[l];
        }
    }
    return factors;
}

namespace detail {

template <class T>
inline double percentile_of_positive(const matrix<T>& a, double pct)
{
    std::vector<T> v;
    v.reserve(a.size());
    for (T x : a) {
        if (x > T(0)) v.push_back(x);
    }
    if (v.empty()) return 0.0;
    // nearest-rank percentile
    const double rank = std::ceil(pct / 100.0 * static_cast<double>(v.size()));
    const std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(std::max(1.0, rank)) - 1);
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return static_cast<double>(v[k]);
}

}  // namespace detail

/// Computes the normalization of `net` on inputs x (N x inputs), in test mode (hidden
/// activations include the test-time dropout scaling, as in the authors' code).
template <class T>
inline Normalization compute_normalization(const DenseNetwork<T>& net, const matrix<T>& x,
                                           const NormalizationOptions& options = {})
{
    net.check_input(x, "compute_normalization");
    if (x.shape()[0] == 0) {
        throw invalid_argument("compute_normalization: no samples");
    }
    if (options.chain == NormalizationChain::percentile) {
        check::in_range("compute_normalization", "percentile", options.percentile, 0.0, 100.0,
                        check::Interval::open_closed);
    }
    const std::size_t layers = net.num_layers();
    Normalization norm;
    norm.max_activation.assign(layers, 0.0);
    norm.max_weight.assign(layers, 0.0);
    // activations chunk by chunk (the whole training set would not fit at once for large nets)
    const std::size_t n = x.shape()[0];
    const bool pct = options.chain == NormalizationChain::percentile;
    std::vector<std::vector<T>> positives(pct ? layers : 0);
    ForwardState<T> st;
    matrix<T> chunk;
    for (std::size_t start = 0; start < n; start += detail::inference_chunk) {
        const std::size_t stop = std::min(n, start + detail::inference_chunk);
        chunk = xt::view(x, xt::range(start, stop), xt::all());
        net.forward(chunk, st, Mode::test);
        for (std::size_t l = 0; l < layers; ++l) {
            for (T v : st.a[l]) {
                norm.max_activation[l] = std::max(norm.max_activation[l], static_cast<double>(v));
                if (pct && v > T(0)) positives[l].push_back(v);
            }
        }
    }
    for (std::size_t l = 0; l < layers; ++l) {
        if (pct) {
            matrix<T> a = matrix<T>::from_shape({1, positives[l].size()});
            std::copy(positives[l].begin(), positives[l].end(), a.begin());
            norm.max_activation[l] = detail::percentile_of_positive(a, options.percentile);
        }
        for (T w : net.weights(l)) {
            norm.max_weight[l] = std::max(norm.max_weight[l], static_cast<double>(w));
        }
        const double s = std::max(norm.max_weight[l], norm.max_activation[l]);
        if (!(s > 0.0) || !std::isfinite(s)) {
            throw numeric_error("compute_normalization: layer " + std::to_string(l + 1) +
                                " has no positive weight or activation (scale " + std::to_string(s) +
                                "); the network cannot be normalized");
        }
        norm.scale.push_back(s);
    }
    norm.factors = chain_factors(norm.scale, options.chain);
    return norm;
}

/// The factors only.
template <class T>
inline std::vector<double> normalization_factors(const DenseNetwork<T>& net, const matrix<T>& x,
                                                 const NormalizationOptions& options = {})
{
    return compute_normalization(net, x, options).factors;
}

/// A copy of `net` with W_l multiplied by factors[l] (biases, if any, by the product of
/// the factors up to l, which keeps the textbook chain's meaning).
template <class T>
inline DenseNetwork<T> normalized_copy(const DenseNetwork<T>& net, const std::vector<double>& factors)
{
    if (factors.size() != net.num_layers()) {
        throw invalid_argument("normalized_copy: " + std::to_string(factors.size()) + " factors for " +
                               std::to_string(net.num_layers()) + " layers");
    }
    DenseNetwork<T> out = net;
    double cumulative = 1.0;
    for (std::size_t l = 0; l < net.num_layers(); ++l) {
        if (!(factors[l] > 0.0) || !std::isfinite(factors[l])) {
            throw invalid_argument("normalized_copy: factor " + std::to_string(l + 1) + " must be finite and > 0");
        }
        cumulative *= factors[l];
        for (auto& w : out.weights(l)) w = static_cast<T>(static_cast<double>(w) * factors[l]);
        if (net.has_bias()) {
            for (auto& b : out.bias(l)) b = static_cast<T>(static_cast<double>(b) * cumulative);
        }
    }
    return out;
}

}  // namespace sleepnet
