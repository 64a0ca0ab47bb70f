#pragma once
// Class-selective neurons and their activation before and after a change of the network
// (paper Fig. 12, appendix 8.4: "we define digit-specific neurons by looking at the top
// 100 neurons with the highest activation for a specific digit. We look at the normalized
// mean activations of these neurons before and after sleep").
//
// Definition used here, per analysed layer l and class c:
// - mean activation of unit u for class c = mean over the samples of class c of the unit's
//   test-mode activation (analysis/activations.hpp);
// - the class-selective neurons S_c = the top_k units with the highest mean activation for
//   class c (ties: lower index first; k = min(top_k, units)), chosen on the `before`
//   network (SelectionSource::before, default: the same neurons are followed through the
//   change, as "these neurons" in the paper) or on each network separately
//   (SelectionSource::each);
// - score = mean over S_c of the class-c mean activations, for each network;
// - normalized score = score / (largest activation of layer l over all samples and units
//   of that network), the activation analogue of the paper's "normalized by dividing by
//   the maximum firing rate" (Fig. 11). A silent layer (max <= 0) gives NaN.
// The two networks must have the same layer sizes. Layers: SelectivityOptions::layers
// (0-based, as DenseNetwork::activations()), default every hidden layer (the output layer
// for a network without hidden layers).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "../core/enum_names.hpp"
#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../nn/dense_network.hpp"
#include "activations.hpp"

namespace sleepnet {

enum class SelectionSource { before, each };

template <>
struct EnumNames<SelectionSource> {
    static constexpr const char* kind = "selection source";
    static constexpr EnumName<SelectionSource> table[] = {{SelectionSource::before, "before"},
                                                          {SelectionSource::each, "each"}};
};

struct SelectivityOptions {
    std::size_t top_k = 100;          ///< the paper: 100
    std::vector<std::size_t> layers;  ///< empty = every hidden layer
    SelectionSource selection = SelectionSource::before;
};

struct ClassSelectivity {
    std::size_t cls = 0;
    std::vector<std::size_t> neurons_before;  ///< S_c on the before network, highest mean first
    std::vector<std::size_t> neurons_after;   ///< S_c used for the after network (== before unless selection = each)
    double before = 0.0;                      ///< mean activation of S_c for class c, before network
    double after = 0.0;
    double before_normalized = 0.0;  ///< before / before_max
    double after_normalized = 0.0;
};

struct LayerSelectivity {
    std::size_t layer = 0;
    std::size_t units = 0;
    std::size_t k = 0;
    double before_max = 0.0;  ///< largest activation of the layer, before network
    double after_max = 0.0;
    std::vector<ClassSelectivity> classes;
};

struct SelectivityAnalysis {
    std::size_t top_k = 0;
    SelectionSource selection = SelectionSource::before;
    std::vector<std::size_t> counts;  ///< samples per class
    std::vector<LayerSelectivity> layers;
};

/// The k units with the highest values in row c of `class_means` (classes x units),
/// highest first, ties broken by the lower index.
inline std::vector<std::size_t> top_units(const matrix<double>& class_means, std::size_t c, std::size_t k)
{
    if (c >= class_means.shape()[0]) {
        throw invalid_argument("top_units: class " + std::to_string(c) + " out of range (" +
                               std::to_string(class_means.shape()[0]) + " classes)");
    }
    const std::size_t units = class_means.shape()[1];
    k = std::min(k, units);
    std::vector<std::size_t> idx(units);
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
                      [&](std::size_t a, std::size_t b) {
                          const double va = class_means(c, a), vb = class_means(c, b);
                          return va > vb || (va == vb && a < b);
                      });
    idx.resize(k);
    return idx;
}

/// Class-selective neurons of `before` and their mean activations in `before` and
/// `after`, on inputs (x, y) (e.g. the noisy test images of Fig. 12). Throws
/// invalid_argument for networks of different layer sizes, top_k = 0, a layer out of
/// range, empty or mismatched data, labels >= classes, a class without samples.
template <class T>
inline SelectivityAnalysis class_selectivity(const DenseNetwork<T>& before, const DenseNetwork<T>& after,
                                             const matrix<T>& x, const label_vector& y, std::size_t classes,
                                             const SelectivityOptions& options = {})
{
    const char* who = "class_selectivity";
    if (before.layer_sizes() != after.layer_sizes()) {
        std::string a, b;
        for (auto s : before.layer_sizes()) a += (a.empty() ? "" : "-") + std::to_string(s);
        for (auto s : after.layer_sizes()) b += (b.empty() ? "" : "-") + std::to_string(s);
        throw invalid_argument(std::string(who) + ": the networks differ in layer sizes (" + a + " vs " + b + ")");
    }
    check::positive(who, "top_k", options.top_k);
    std::vector<std::size_t> layers = options.layers;
    const std::size_t nl = before.num_layers();
    if (layers.empty()) {
        for (std::size_t l = 0; l + 1 < nl; ++l) layers.push_back(l);
        if (layers.empty()) layers.push_back(nl - 1);
    }
    for (std::size_t l : layers) {
        if (l >= nl) {
            throw invalid_argument(std::string(who) + ": layer " + std::to_string(l) +
                                   " out of range (the networks have " + std::to_string(nl) + " layers, 0 .. " +
                                   std::to_string(nl - 1) + ")");
        }
    }
    const ClassActivationStats sb = class_activation_stats(before, x, y, classes, who);
    const ClassActivationStats sa = class_activation_stats(after, x, y, classes, who);
    const double nan = std::numeric_limits<double>::quiet_NaN();

    SelectivityAnalysis out;
    out.top_k = options.top_k;
    out.selection = options.selection;
    out.counts = sb.counts;
    for (std::size_t l : layers) {
        LayerSelectivity ls;
        ls.layer = l;
        ls.units = before.layer_sizes()[l + 1];
        ls.k = std::min(options.top_k, ls.units);
        ls.before_max = sb.layer_max[l];
        ls.after_max = sa.layer_max[l];
        for (std::size_t c = 0; c < classes; ++c) {
            ClassSelectivity cs;
            cs.cls = c;
            cs.neurons_before = top_units(sb.means[l], c, ls.k);
            cs.neurons_after =
                options.selection == SelectionSource::before ? cs.neurons_before : top_units(sa.means[l], c, ls.k);
            double b = 0.0, a = 0.0;
            for (std::size_t u : cs.neurons_before) b += sb.means[l](c, u);
            for (std::size_t u : cs.neurons_after) a += sa.means[l](c, u);
            cs.before = b / static_cast<double>(ls.k);
            cs.after = a / static_cast<double>(ls.k);
            cs.before_normalized = ls.before_max > 0.0 ? cs.before / ls.before_max : nan;
            cs.after_normalized = ls.after_max > 0.0 ? cs.after / ls.after_max : nan;
            ls.classes.push_back(std::move(cs));
        }
        out.layers.push_back(std::move(ls));
    }
    return out;
}

}  // namespace sleepnet
