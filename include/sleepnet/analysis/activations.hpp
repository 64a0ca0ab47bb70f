#pragma once
// Per-class statistics of a network's test-mode layer activations, the input of the
// correlation (paper Fig. 8-10) and class-selectivity (Fig. 12) analyses.
//
// Layers are numbered like DenseNetwork::activations(): layer l (0-based) is the output of
// weight layer l (after its activation and the test-time dropout scaling), so for the
// authors' 784-1200-1200-10 network layers 0 and 1 are the two hidden layers (the paper's
// "layer 2" and "layer 3", counting the input as layer 1) and layer 2 is the output.
//
// Data are processed in chunks of detail::inference_chunk rows through the deterministic
// inference path, so results do not depend on batch size or thread count, and memory
// stays bounded for whole training sets.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <xtensor/xview.hpp>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../nn/dense_network.hpp"

namespace sleepnet {

struct ClassActivationStats {
    std::size_t classes = 0;
    std::vector<std::size_t> counts;    ///< samples per class
    std::vector<matrix<double>> means;  ///< per layer: classes x units, mean activation per class and unit
    std::vector<double> layer_max;      ///< per layer: largest activation over all samples and units
};

namespace detail {

/// Checks shared by the analyses: x matches the network, labels match x and are <
/// classes, x is not empty, classes > 0.
template <class T>
inline void check_analysis_inputs(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                  std::size_t classes, const char* who)
{
    net.check_input(x, who);
    if (x.shape()[0] == 0) {
        throw invalid_argument(std::string(who) + ": no inputs (x has 0 rows)");
    }
    if (y.size() != x.shape()[0]) {
        throw invalid_argument(std::string(who) + ": x has " + std::to_string(x.shape()[0]) + " rows but y has " +
                               std::to_string(y.size()) + " labels");
    }
    if (classes == 0) {
        throw invalid_argument(std::string(who) + ": classes is 0");
    }
    for (std::size_t i = 0; i < y.size(); ++i) {
        if (y(i) >= classes) {
            throw invalid_argument(std::string(who) + ": label y(" + std::to_string(i) + ") = " + std::to_string(y(i)) +
                                   " is not < classes = " + std::to_string(classes));
        }
    }
}

/// Calls f(first_row, activations_of_chunk) for consecutive chunks of x.
template <class T, class F>
inline void for_each_activation_chunk(const DenseNetwork<T>& net, const matrix<T>& x, F&& f)
{
    const std::size_t n = x.shape()[0];
    matrix<T> chunk;
    for (std::size_t start = 0; start < n; start += inference_chunk) {
        const std::size_t stop = std::min(n, start + inference_chunk);
        if (start == 0 && stop == n) {
            f(start, net.activations(x));
        } else {
            chunk = xt::view(x, xt::range(start, stop), xt::all());
            f(start, net.activations(chunk));
        }
    }
}

}  // namespace detail

/// Mean test-mode activation of every unit of every layer per class, and each layer's
/// largest activation. Throws invalid_argument on empty or mismatched input, labels >=
/// classes, or a class without samples (naming it); messages start with `who`.
template <class T>
inline ClassActivationStats class_activation_stats(const DenseNetwork<T>& net, const matrix<T>& x,
                                                   const label_vector& y, std::size_t classes,
                                                   const char* who = "class_activation_stats")
{
    detail::check_analysis_inputs(net, x, y, classes, who);
    ClassActivationStats s;
    s.classes = classes;
    s.counts.assign(classes, 0);
    for (std::size_t i = 0; i < y.size(); ++i) ++s.counts[y(i)];
    for (std::size_t c = 0; c < classes; ++c) {
        if (s.counts[c] == 0) {
            throw invalid_argument(std::string(who) + ": class " + std::to_string(c) + " has no samples");
        }
    }
    const std::size_t layers = net.num_layers();
    for (std::size_t l = 0; l < layers; ++l) {
        matrix<double> m = matrix<double>::from_shape({classes, net.layer_sizes()[l + 1]});
        m.fill(0.0);
        s.means.push_back(std::move(m));
    }
    s.layer_max.assign(layers, -INFINITY);
    detail::for_each_activation_chunk(net, x, [&](std::size_t start, const std::vector<matrix<T>>& acts) {
        for (std::size_t l = 0; l < layers; ++l) {
            const matrix<T>& a = acts[l];
            const std::size_t units = a.shape()[1];
            double* mp = s.means[l].data();
            for (std::size_t i = 0; i < a.shape()[0]; ++i) {
                const std::size_t c = y(start + i);
                const T* row = a.data() + i * units;
                double* acc = mp + c * units;
                for (std::size_t u = 0; u < units; ++u) {
                    acc[u] += static_cast<double>(row[u]);
                    s.layer_max[l] = std::max(s.layer_max[l], static_cast<double>(row[u]));
                }
            }
        }
    });
    for (std::size_t l = 0; l < layers; ++l) {
        const std::size_t units = s.means[l].shape()[1];
        for (std::size_t c = 0; c < classes; ++c) {
            for (std::size_t u = 0; u < units; ++u) s.means[l](c, u) /= static_cast<double>(s.counts[c]);
        }
    }
    return s;
}

}  // namespace sleepnet
