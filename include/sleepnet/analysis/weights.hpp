#pragma once
// Weight analyses of the Patches experiment (paper appendix 8.2, Fig. 3D and Fig. 4).
//
// Pixel categories. For output neuron (class) k of a layer whose input is the image, and
// the class prototypes P (classes x pixels; for Patches the images themselves, rows of
// make_patches_images(), or class_prototypes(data) of any data set), pixel p is
// - ON for class k when P(k, p) > threshold (0.5: the pixel is 1 in class k's image);
//   ON pixels split into
//   - exclusive: ON for k and for no other class ("ON-pixels" in Fig. 4),
//   - overlapping: ON for k and for at least one other class;
// - OFF for class k otherwise.
//
// Weight spread (Fig. 3D: "the difference between the average weight connecting from
// ON-pixels and the average weight connecting from OFF-pixels"):
//   spread(k) = mean_{p ON for k} W(k, p) - mean_{p OFF for k} W(k, p)
// with ON including the overlapping pixels (every pixel that is 1 in the class's image).
// spread_exclusive(k) uses the exclusive ON pixels only. The per-category means are
// reported too (NaN when a category is empty, e.g. no overlap).
//
// For a one-layer network (Patches: 100 -> 4) use layer 0; any layer whose inputs are the
// image pixels and whose outputs are the classes works.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "../core/enum_names.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../data/dataset.hpp"
#include "../nn/dense_network.hpp"

namespace sleepnet {

enum class PixelCategory { on_exclusive, overlap, off };

template <>
struct EnumNames<PixelCategory> {
    static constexpr const char* kind = "pixel category";
    static constexpr EnumName<PixelCategory> table[] = {
        {PixelCategory::on_exclusive, "on"}, {PixelCategory::overlap, "overlap"}, {PixelCategory::off, "off"}};
};

struct ClassWeightSpread {
    std::size_t cls = 0;
    std::size_t on = 0;  ///< ON pixels (exclusive + overlapping)
    std::size_t exclusive = 0;
    std::size_t overlap = 0;
    std::size_t off = 0;
    double mean_on = 0.0;  ///< mean weight from ON pixels (incl. overlapping)
    double mean_exclusive = 0.0;
    double mean_overlap = 0.0;
    double mean_off = 0.0;
    double spread = 0.0;            ///< mean_on - mean_off
    double spread_exclusive = 0.0;  ///< mean_exclusive - mean_off
};

struct WeightSpread {
    std::vector<ClassWeightSpread> classes;
    double mean_spread = 0.0;  ///< mean of spread over classes

    /// spread per class, in class order.
    std::vector<double> spreads() const
    {
        std::vector<double> v;
        for (const auto& c : classes) v.push_back(c.spread);
        return v;
    }
};

/// Category of every (class, pixel): classes x pixels. Throws invalid_argument for an
/// empty or non-finite prototype matrix, or a non-finite threshold.
template <class T>
inline std::vector<std::vector<PixelCategory>> pixel_categories(const matrix<T>& prototypes, double threshold = 0.5)
{
    const std::size_t classes = prototypes.shape()[0];
    const std::size_t pixels = prototypes.shape()[1];
    if (classes == 0 || pixels == 0) {
        throw invalid_argument("pixel_categories: prototypes are empty " + detail::shape_string(prototypes));
    }
    if (!std::isfinite(threshold)) {
        throw invalid_argument("pixel_categories: threshold must be finite");
    }
    for (std::size_t k = 0; k < prototypes.size(); ++k) {
        if (!std::isfinite(static_cast<double>(prototypes.data()[k]))) {
            throw invalid_argument("pixel_categories: prototype " + std::to_string(k / pixels) + ", pixel " +
                                   std::to_string(k % pixels) + " is not finite");
        }
    }
    std::vector<std::size_t> on_count(pixels, 0);
    for (std::size_t c = 0; c < classes; ++c)
        for (std::size_t p = 0; p < pixels; ++p) on_count[p] += static_cast<double>(prototypes(c, p)) > threshold;
    std::vector<std::vector<PixelCategory>> cat(classes, std::vector<PixelCategory>(pixels, PixelCategory::off));
    for (std::size_t c = 0; c < classes; ++c) {
        for (std::size_t p = 0; p < pixels; ++p) {
            if (static_cast<double>(prototypes(c, p)) > threshold) {
                cat[c][p] = on_count[p] > 1 ? PixelCategory::overlap : PixelCategory::on_exclusive;
            }
        }
    }
    return cat;
}

/// Weight spread of a classes x pixels weight matrix W (row k: weights into output k)
/// against class prototypes of the same shape. Throws invalid_argument on a shape
/// mismatch, non-finite weights, or a class with no ON or no OFF pixel.
template <class T>
inline WeightSpread weight_spread(const matrix<T>& weights, const matrix<T>& prototypes, double threshold = 0.5)
{
    if (weights.shape() != prototypes.shape()) {
        throw invalid_argument("weight_spread: weights have shape " + detail::shape_string(weights) +
                               " but the prototypes have shape " + detail::shape_string(prototypes) +
                               " (expected one prototype per output neuron, one value per input pixel)");
    }
    const auto cat = pixel_categories(prototypes, threshold);
    const std::size_t classes = weights.shape()[0];
    const std::size_t pixels = weights.shape()[1];
    for (std::size_t k = 0; k < weights.size(); ++k) {
        if (!std::isfinite(static_cast<double>(weights.data()[k]))) {
            throw numeric_error("weight_spread: weight (" + std::to_string(k / pixels) + ", " +
                                std::to_string(k % pixels) + ") is not finite");
        }
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    WeightSpread out;
    double total = 0.0;
    for (std::size_t c = 0; c < classes; ++c) {
        ClassWeightSpread s;
        s.cls = c;
        double sum_ex = 0.0, sum_ov = 0.0, sum_off = 0.0;
        for (std::size_t p = 0; p < pixels; ++p) {
            const double w = static_cast<double>(weights(c, p));
            switch (cat[c][p]) {
            case PixelCategory::on_exclusive:
                sum_ex += w;
                ++s.exclusive;
                break;
            case PixelCategory::overlap:
                sum_ov += w;
                ++s.overlap;
                break;
            case PixelCategory::off:
                sum_off += w;
                ++s.off;
                break;
            }
        }
        s.on = s.exclusive + s.overlap;
        if (s.on == 0 || s.off == 0) {
            throw invalid_argument("weight_spread: the prototype of class " + std::to_string(c) + " has " +
                                   std::to_string(s.on) + " ON and " + std::to_string(s.off) +
                                   " OFF pixels (threshold " + std::to_string(threshold) + "); both must be > 0");
        }
        s.mean_on = (sum_ex + sum_ov) / static_cast<double>(s.on);
        s.mean_exclusive = s.exclusive > 0 ? sum_ex / static_cast<double>(s.exclusive) : nan;
        s.mean_overlap = s.overlap > 0 ? sum_ov / static_cast<double>(s.overlap) : nan;
        s.mean_off = sum_off / static_cast<double>(s.off);
        s.spread = s.mean_on - s.mean_off;
        s.spread_exclusive = s.mean_exclusive - s.mean_off;
        total += s.spread;
        out.classes.push_back(s);
    }
    out.mean_spread = total / static_cast<double>(classes);
    return out;
}

/// Weight spread of layer `layer` of a network (default the first: for Patches' one-layer
/// 100 -> 4 network the only one).
template <class T>
inline WeightSpread weight_spread(const DenseNetwork<T>& net, const matrix<T>& prototypes, std::size_t layer = 0,
                                  double threshold = 0.5)
{
    if (layer >= net.num_layers()) {
        throw invalid_argument("weight_spread: layer " + std::to_string(layer) + " out of range (network has " +
                               std::to_string(net.num_layers()) + " weight layers)");
    }
    return weight_spread(net.weights(layer), prototypes, threshold);
}

/// Mean input of every class (classes x dim): the prototypes of a labelled set (for
/// Patches' training set: the images themselves). Throws invalid_argument for an empty
/// or inconsistent set, or a class without samples.
template <class T>
inline matrix<T> class_prototypes(const Dataset<T>& data)
{
    const std::string who = "class_prototypes: data set '" + data.name + "'";
    if (data.size() == 0 || data.classes == 0) {
        throw invalid_argument(who + " is empty");
    }
    data.validate();
    const std::size_t d = data.dim();
    matrix<double> sum = matrix<double>::from_shape({data.classes, d});
    sum.fill(0.0);
    std::vector<std::size_t> count(data.classes, 0);
    for (std::size_t i = 0; i < data.size(); ++i) {
        const std::size_t c = data.y(i);
        ++count[c];
        for (std::size_t j = 0; j < d; ++j) sum(c, j) += static_cast<double>(data.x(i, j));
    }
    matrix<T> out = matrix<T>::from_shape({data.classes, d});
    for (std::size_t c = 0; c < data.classes; ++c) {
        if (count[c] == 0) {
            throw invalid_argument(who + ": class " + std::to_string(c) + " has no samples");
        }
        for (std::size_t j = 0; j < d; ++j) out(c, j) = static_cast<T>(sum(c, j) / static_cast<double>(count[c]));
    }
    return out;
}

/// The rows of W (units x rows*cols) as rows x cols images tiled into one grid image,
/// `grid_cols` tiles per grid row (0 = ceil(sqrt(units))), `padding` pixels of
/// `pad_value` between and around tiles; row-major tile order. With `normalize`, every
/// tile is scaled to [0, 1] by its own min and max (a constant tile becomes 0.5).
/// Returns a (grid_rows*(rows+padding)+padding) x (grid_cols*(cols+padding)+padding)
/// matrix (e.g. for an image writer or matplotlib's imshow).
template <class T>
inline matrix<T> weight_grid(const matrix<T>& weights, std::size_t rows, std::size_t cols, std::size_t grid_cols = 0,
                             std::size_t padding = 1, T pad_value = T(0), bool normalize = false)
{
    const std::size_t units = weights.shape()[0];
    if (units == 0 || rows == 0 || cols == 0 || rows * cols != weights.shape()[1]) {
        throw invalid_argument("weight_grid: weights of shape " + detail::shape_string(weights) +
                               " cannot be shown as " + std::to_string(rows) + " x " + std::to_string(cols) +
                               " images");
    }
    if (grid_cols == 0) {
        grid_cols = static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(units))));
    }
    grid_cols = std::min(grid_cols, units);
    const std::size_t grid_rows = (units + grid_cols - 1) / grid_cols;
    const std::size_t h = grid_rows * (rows + padding) + padding;
    const std::size_t w = grid_cols * (cols + padding) + padding;
    matrix<T> out = matrix<T>::from_shape({h, w});
    out.fill(pad_value);
    for (std::size_t u = 0; u < units; ++u) {
        const std::size_t r0 = padding + (u / grid_cols) * (rows + padding);
        const std::size_t c0 = padding + (u % grid_cols) * (cols + padding);
        double lo = 0.0, scale = 1.0;
        if (normalize) {
            const T* row = weights.data() + u * rows * cols;
            const auto mm = std::minmax_element(row, row + rows * cols);
            lo = static_cast<double>(*mm.first);
            const double range = static_cast<double>(*mm.second) - lo;
            scale = range > 0.0 ? 1.0 / range : 0.0;
        }
        for (std::size_t i = 0; i < rows; ++i) {
            for (std::size_t j = 0; j < cols; ++j) {
                const double v = static_cast<double>(weights(u, i * cols + j));
                out(r0 + i, c0 + j) = static_cast<T>(normalize ? (scale > 0.0 ? (v - lo) * scale : 0.5) : v);
            }
        }
    }
    return out;
}

}  // namespace sleepnet
