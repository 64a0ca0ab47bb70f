#pragma once
// Pre-extracted feature embeddings (the paper's CUB-200 set: ResNet-50 features of bird
// images, about 30 per class) stored as four .npy files in one directory:
//   x_train.npy  N x D float32 / float64      y_train.npy  N integer labels (or N x 1)
//   x_test.npy   M x D                         y_test.npy   M integer labels
// plus a generated stand-in with the same shape of data (clustered non-negative
// features, like ReLU embeddings), named "synthetic-features" so it is never mistaken
// for real data.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include <xtensor/xtensor.hpp>

#include "sleepnet/core/error.hpp"
#include "sleepnet/core/rng.hpp"
#include "sleepnet/core/tensor.hpp"
#include "sleepnet/data/dataset.hpp"
#include "sleepnet/data/npy.hpp"

namespace sleepnet {
namespace detail {

/// Labels from a 1-D (N) or 2-D (N x 1) integer (or integral float) .npy file.
inline label_vector load_feature_labels(const std::string& path)
{
    const npy::Header h = npy::read_header(path);
    if (h.shape.size() == 1) {
        return npy::load<std::size_t, 1>(path);
    }
    if (h.shape.size() == 2 && h.shape[1] == 1) {
        const xt::xtensor<std::size_t, 2> y2 = npy::load<std::size_t, 2>(path);
        label_vector y(label_vector::shape_type{h.shape[0]});
        std::copy(y2.data(), y2.data() + y2.size(), y.data());
        return y;
    }
    throw format_error("npy file '" + path + "': labels must have shape (N,) or (N, 1), file has shape " +
                       shape_string(h.shape));
}

template <class T>
inline Dataset<T> load_feature_part(const std::string& x_path, const std::string& y_path)
{
    Dataset<T> d;
    d.x = npy::load<T, 2>(x_path);
    d.y = load_feature_labels(y_path);
    if (d.x.shape(0) != d.y.size()) {
        throw format_error("feature files '" + x_path + "' and '" + y_path + "' disagree: " +
                           std::to_string(d.x.shape(0)) + " rows but " + std::to_string(d.y.size()) + " labels");
    }
    const std::size_t cols = d.x.shape(1);
    const T* p = d.x.data();
    for (std::size_t k = 0; k < d.x.size(); ++k) {
        if (!std::isfinite(p[k])) {
            throw format_error("npy file '" + x_path + "': x(" + std::to_string(k / cols) + ", " +
                               std::to_string(k % cols) + ") is not finite");
        }
    }
    d.name = "features";
    return d;
}

inline void check_labels_below(const label_vector& y, std::size_t classes, const std::string& path)
{
    for (std::size_t i = 0; i < y.size(); ++i) {
        if (y(i) >= classes) {
            throw format_error("npy file '" + path + "': label " + std::to_string(i) + " has value " +
                               std::to_string(y(i)) + ", not < classes = " + std::to_string(classes));
        }
    }
}

}  // namespace detail

/// Loads DIR/{x,y}_{train,test}.npy. classes = 0 means max label + 1 over both splits;
/// otherwise every label must be < classes. Errors (format_error / io_error) name the file.
template <class T = float>
inline DataSplits<T> load_features(const std::string& dir, std::size_t classes = 0)
{
    namespace fs = std::filesystem;
    auto file = [&](const char* name) { return (fs::path(dir) / name).string(); };
    const std::string xtr = file("x_train.npy"), ytr = file("y_train.npy");
    const std::string xte = file("x_test.npy"), yte = file("y_test.npy");

    DataSplits<T> s;
    s.train = detail::load_feature_part<T>(xtr, ytr);
    s.test = detail::load_feature_part<T>(xte, yte);
    if (s.train.size() == 0) {
        throw format_error("feature file '" + xtr + "' holds no samples");
    }
    if (s.train.dim() == 0) {
        throw format_error("feature file '" + xtr + "' has 0 feature columns");
    }
    if (s.train.dim() != s.test.dim()) {
        throw format_error("feature files '" + xtr + "' and '" + xte + "' have different widths (" +
                           std::to_string(s.train.dim()) + " vs " + std::to_string(s.test.dim()) + " columns)");
    }
    if (classes == 0) {
        std::size_t top = 0;
        for (std::size_t v : s.train.y) {
            top = std::max(top, v);
        }
        for (std::size_t v : s.test.y) {
            top = std::max(top, v);
        }
        classes = top + 1;
    }
    detail::check_labels_below(s.train.y, classes, ytr);
    detail::check_labels_below(s.test.y, classes, yte);
    s.train.classes = s.test.classes = classes;
    return s;
}

/// Writes splits as DIR/{x,y}_{train,test}.npy (each atomically; labels as int64).
/// Creates DIR when missing.
template <class T>
inline void save_features(const std::string& dir, const DataSplits<T>& splits)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir)) {
        throw io_error("save_features: cannot create directory '" + dir + "'" + (ec ? " (" + ec.message() + ")" : ""));
    }
    auto labels64 = [](const label_vector& y) {
        xt::xtensor<std::int64_t, 1> out(xt::xtensor<std::int64_t, 1>::shape_type{y.size()});
        for (std::size_t i = 0; i < y.size(); ++i) {
            out(i) = static_cast<std::int64_t>(y(i));
        }
        return out;
    };
    npy::save((fs::path(dir) / "x_train.npy").string(), splits.train.x);
    npy::save((fs::path(dir) / "y_train.npy").string(), labels64(splits.train.y));
    npy::save((fs::path(dir) / "x_test.npy").string(), splits.test.x);
    npy::save((fs::path(dir) / "y_test.npy").string(), labels64(splits.test.y));
}

/// Shape and difficulty of the synthetic stand-in. Defaults: CUB-200-like sizes (200
/// classes, 30 train / 29 test images per class, 2048-d), and a separation at which a
/// nearest-class-mean classifier scores about 60% on the test split (chance: 0.5%).
struct SyntheticFeaturesOptions {
    std::size_t classes = 200;
    std::size_t per_class_train = 30;
    std::size_t per_class_test = 29;
    std::size_t dim = 2048;
    double separation = 0.15;  ///< spread of class centres around the shared mean
    double spread = 1.0;       ///< within-class noise (standard deviation before the ReLU)
};

/// Clustered non-negative features: a shared mean m_j ~ N(0, 1), class centres
/// c_kj = m_j + separation * N(0, 1), samples max(0, c_kj + spread * N(0, 1)).
/// Sample i of either split has label i % classes (balanced, interleaved). Draws, in
/// order: the mean, the centres (class by class), train rows, test rows.
template <class T = float, class Engine>
inline DataSplits<T> make_synthetic_features(Engine& engine, const SyntheticFeaturesOptions& opt = {})
{
    const std::string where = "make_synthetic_features: ";
    detail::require(opt.classes > 0, where + "option 'classes' is 0");
    detail::require(opt.per_class_train > 0, where + "option 'per_class_train' is 0");
    detail::require(opt.dim > 0, where + "option 'dim' is 0");
    detail::require(std::isfinite(opt.separation) && opt.separation >= 0,
                    where + "option 'separation' = " + std::to_string(opt.separation) + " is not a finite value >= 0");
    detail::require(std::isfinite(opt.spread) && opt.spread >= 0,
                    where + "option 'spread' = " + std::to_string(opt.spread) + " is not a finite value >= 0");

    std::vector<double> mean(opt.dim);
    for (double& m : mean) {
        m = rng::normal<double>(engine);
    }
    std::vector<double> centre(opt.classes * opt.dim);
    for (std::size_t k = 0; k < opt.classes; ++k) {
        for (std::size_t j = 0; j < opt.dim; ++j) {
            centre[k * opt.dim + j] = mean[j] + opt.separation * rng::normal<double>(engine);
        }
    }
    auto draw = [&](std::size_t per_class) {
        Dataset<T> d;
        const std::size_t n = per_class * opt.classes;
        d.x = matrix<T>({n, opt.dim});
        d.y = label_vector(label_vector::shape_type{n});
        T* row = d.x.data();
        for (std::size_t i = 0; i < n; ++i, row += opt.dim) {
            const std::size_t k = i % opt.classes;
            d.y(i) = k;
            const double* c = centre.data() + k * opt.dim;
            for (std::size_t j = 0; j < opt.dim; ++j) {
                const double v = c[j] + opt.spread * rng::normal<double>(engine);
                row[j] = static_cast<T>(v > 0.0 ? v : 0.0);
            }
        }
        d.classes = opt.classes;
        d.name = "synthetic-features";
        return d;
    };
    DataSplits<T> s;
    s.train = draw(opt.per_class_train);
    s.test = draw(opt.per_class_test);
    return s;
}

}  // namespace sleepnet
