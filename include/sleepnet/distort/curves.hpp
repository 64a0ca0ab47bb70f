#pragma once
// Accuracy curves under distortions: the accuracy of a network on a data set distorted at
// each of a list of levels (noise) or sigmas (blur), as in the paper's robustness plots.
//
// The distorted data set is never held whole: rows are processed in chunks of
// detail::inference_chunk (1024) rows, so the extra memory is one chunk, whatever the
// size of x (MNIST test: 10,000 x 784). Chunking does not change any number:
// - DenseNetwork::predict is deterministic and independent of the batch it is given;
// - noise is drawn level after level (levels in the given order), and within a level row
//   by row in row-major order, one normal per element: exactly the draws of calling
//   gaussian_noise(x, level, kind, engine, lo, hi) once per level in order. A level of 0
//   draws nothing (its accuracy is the clean accuracy);
// - blur is deterministic and per image.
// All levels are validated before anything is drawn, so a bad level leaves the engine
// untouched.

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../nn/dense_network.hpp"
#include "blur.hpp"
#include "noise.hpp"

namespace sleepnet {

/// One point of an accuracy curve.
struct CurvePoint {
    double level = 0.0;     ///< noise level or blur sigma
    double accuracy = 0.0;  ///< fraction correctly classified, in [0, 1]
};

/// Pairs levels with accuracies; throws invalid_argument when the sizes differ.
inline std::vector<CurvePoint> make_curve(const std::vector<double>& levels, const std::vector<double>& accuracies)
{
    if (levels.size() != accuracies.size()) {
        throw invalid_argument("make_curve: " + std::to_string(levels.size()) + " levels but " +
                               std::to_string(accuracies.size()) + " accuracies");
    }
    std::vector<CurvePoint> out(levels.size());
    for (std::size_t i = 0; i < levels.size(); ++i) {
        out[i] = {levels[i], accuracies[i]};
    }
    return out;
}

namespace detail {

template <class T>
inline void curve_check_data(const char* where, const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y)
{
    if (x.shape()[0] != y.size()) {
        throw invalid_argument(std::string(where) + ": x has " + std::to_string(x.shape()[0]) + " rows but y has " +
                               std::to_string(y.size()) + " labels");
    }
    if (y.size() == 0) {
        throw invalid_argument(std::string(where) + ": empty data set (x has 0 rows)");
    }
    net.check_input(x, where);
}

/// Accuracy of net on the rows produced chunk by chunk: make(start, stop, dst) writes the
/// (distorted) rows start .. stop-1 of x into dst ((stop - start) x D, row-major).
template <class T, class Make>
inline double chunked_accuracy(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y, Make&& make,
                               matrix<T>& buffer)
{
    const std::size_t n = x.shape()[0];
    const std::size_t d = x.shape()[1];
    std::size_t correct = 0;
    for (std::size_t start = 0; start < n; start += inference_chunk) {
        const std::size_t stop = std::min(n, start + inference_chunk);
        resize_if_needed(buffer, stop - start, d);
        make(start, stop, buffer.data());
        const label_vector p = net.predict(buffer);
        for (std::size_t i = 0; i < stop - start; ++i) {
            correct += p(i) == y(start + i) ? 1 : 0;
        }
    }
    return static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace detail

/// Accuracy of `net` on x + Gaussian noise at each level (see gaussian_noise for the
/// meaning of level/kind and the clipping to [lo, hi]). Levels are drawn in order, each
/// exactly as gaussian_noise would draw it from `engine`. Throws invalid_argument naming
/// the bad level (levels[i]), a mismatch of x rows and y, an empty x, or a wrong input width.
template <class T, class Engine>
inline std::vector<double> noise_accuracy_curve(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                                const std::vector<double>& levels, NoiseLevel kind, Engine& engine,
                                                double lo = 0.0, double hi = 1.0)
{
    constexpr const char* where = "noise_accuracy_curve";
    detail::curve_check_data(where, net, x, y);
    detail::distort_check_bounds(where, lo, hi);
    std::vector<double> sigmas(levels.size());
    for (std::size_t i = 0; i < levels.size(); ++i) {
        const std::string name = "levels[" + std::to_string(i) + "]";
        sigmas[i] = noise_sigma(levels[i], kind, where, name.c_str());
    }
    const std::size_t d = x.shape()[1];
    std::vector<double> out;
    out.reserve(levels.size());
    matrix<T> buffer;
    for (const double sigma : sigmas) {
        out.push_back(detail::chunked_accuracy(
            net, x, y,
            [&](std::size_t start, std::size_t stop, T* dst) {
                const T* src = x.data() + start * d;
                const std::size_t count = (stop - start) * d;
                if (sigma == 0.0) {
                    std::copy(src, src + count, dst);
                } else {
                    detail::add_gaussian_noise_into(src, dst, count, sigma, engine, lo, hi);
                }
            },
            buffer));
    }
    return out;
}

/// Accuracy of `net` on x blurred (gaussian_blur: rows x cols images, border, clip to
/// [lo, hi]) at each sigma. Deterministic. Throws invalid_argument naming the bad sigma
/// (sigmas[i]), a wrong image shape, a mismatch of x rows and y, an empty x, or a wrong
/// input width.
template <class T>
inline std::vector<double> blur_accuracy_curve(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                               std::size_t rows, std::size_t cols, const std::vector<double>& sigmas,
                                               BorderMode border = BorderMode::reflect, double lo = 0.0,
                                               double hi = 1.0)
{
    constexpr const char* where = "blur_accuracy_curve";
    detail::curve_check_data(where, net, x, y);
    detail::check_image_shape(where, x.shape()[1], rows, cols);
    detail::distort_check_bounds(where, lo, hi);
    for (std::size_t i = 0; i < sigmas.size(); ++i) {
        const std::string name = "sigmas[" + std::to_string(i) + "]";
        check_blur_sigma(sigmas[i], where, name.c_str());
    }
    const std::size_t d = x.shape()[1];
    std::vector<double> out;
    out.reserve(sigmas.size());
    matrix<T> buffer;
    for (const double sigma : sigmas) {
        if (sigma == 0.0) {
            out.push_back(detail::chunked_accuracy(
                net, x, y,
                [&](std::size_t start, std::size_t stop, T* dst) {
                    std::copy(x.data() + start * d, x.data() + stop * d, dst);
                },
                buffer));
            continue;
        }
        detail::GaussianBlurrer<T> blur(rows, cols, sigma, border, lo, hi);
        out.push_back(detail::chunked_accuracy(
            net, x, y,
            [&](std::size_t start, std::size_t stop, T* dst) { blur(x.data() + start * d, dst, stop - start); },
            buffer));
    }
    return out;
}

/// Noise curve as CurvePoints.
template <class T, class Engine>
inline std::vector<CurvePoint> noise_curve(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                           const std::vector<double>& levels, NoiseLevel kind, Engine& engine,
                                           double lo = 0.0, double hi = 1.0)
{
    return make_curve(levels, noise_accuracy_curve(net, x, y, levels, kind, engine, lo, hi));
}

/// Blur curve as CurvePoints.
template <class T>
inline std::vector<CurvePoint> blur_curve(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                          std::size_t rows, std::size_t cols, const std::vector<double>& sigmas,
                                          BorderMode border = BorderMode::reflect, double lo = 0.0, double hi = 1.0)
{
    return make_curve(sigmas, blur_accuracy_curve(net, x, y, rows, cols, sigmas, border, lo, hi));
}

}  // namespace sleepnet
