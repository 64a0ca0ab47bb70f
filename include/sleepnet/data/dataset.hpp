#pragma once
// A labelled data set (samples as rows of x, class indices in y) and small helpers:
// subsets, one-hot targets, a shuffled train / validation split.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xtensor.hpp>

#include "sleepnet/core/error.hpp"
#include "sleepnet/core/rng.hpp"
#include "sleepnet/core/tensor.hpp"

namespace sleepnet {

template <class T = float>
struct Dataset {
    matrix<T> x;              ///< samples x features
    label_vector y;           ///< one class index per sample
    std::size_t classes = 0;  ///< number of classes (labels are < classes)
    std::string name;         ///< where it came from ("mnist", "patches", ...)

    std::size_t size() const { return x.shape(0); }
    std::size_t dim() const { return x.shape(1); }

    /// Checks x rows == y size, classes > 0 when there are samples, every label <
    /// classes (invalid_argument) and every x value finite (numeric_error).
    void validate() const
    {
        const std::string who = "dataset '" + name + "'";
        detail::require(x.shape(0) == y.size(), who + ": x has " + std::to_string(x.shape(0)) + " rows but y has " +
                                                    std::to_string(y.size()) + " labels");
        detail::require(classes > 0 || y.size() == 0, who + ": classes is 0");
        for (std::size_t i = 0; i < y.size(); ++i) {
            if (y(i) >= classes) {
                throw invalid_argument(who + ": label " + std::to_string(i) + " is " + std::to_string(y(i)) +
                                       ", not < classes = " + std::to_string(classes));
            }
        }
        const std::size_t cols = x.shape(1);
        const T* p = x.data();
        for (std::size_t k = 0; k < x.size(); ++k) {
            if (!std::isfinite(p[k])) {
                throw numeric_error(who + ": x(" + std::to_string(k / cols) + ", " + std::to_string(k % cols) +
                                    ") is not finite");
            }
        }
    }

    /// The samples at `idx` (in that order; repeats allowed). Throws invalid_argument
    /// naming the position and value of an index >= size().
    Dataset subset(const std::vector<std::size_t>& idx) const
    {
        detail::require(x.shape(0) == y.size(), "dataset '" + name + "': subset of an inconsistent dataset (x rows " +
                                                    std::to_string(x.shape(0)) + ", labels " +
                                                    std::to_string(y.size()) + ")");
        const std::size_t n = size();
        const std::size_t d = dim();
        Dataset out;
        out.classes = classes;
        out.name = name;
        out.x = matrix<T>({idx.size(), d});
        out.y = label_vector(label_vector::shape_type{idx.size()});
        for (std::size_t r = 0; r < idx.size(); ++r) {
            if (idx[r] >= n) {
                throw invalid_argument("dataset '" + name + "': subset index idx[" + std::to_string(r) + "] = " +
                                       std::to_string(idx[r]) + " is out of range (size " + std::to_string(n) + ")");
            }
            const T* src = x.data() + idx[r] * d;
            std::copy(src, src + d, out.x.data() + r * d);
            out.y(r) = y(idx[r]);
        }
        return out;
    }

    /// The first min(n, size()) samples.
    Dataset head(std::size_t n) const
    {
        std::vector<std::size_t> idx(std::min(n, size()));
        for (std::size_t i = 0; i < idx.size(); ++i) {
            idx[i] = i;
        }
        return subset(idx);
    }
};

template <class T = float>
struct DataSplits {
    Dataset<T> train;
    Dataset<T> test;
};

/// One row per label with a 1 in the label's column. Throws invalid_argument when
/// classes is 0 or a label is >= classes (naming its index and value).
template <class T>
inline matrix<T> one_hot(const label_vector& y, std::size_t classes)
{
    detail::require(classes > 0, "one_hot: argument 'classes' is 0");
    matrix<T> out = xt::zeros<T>({y.size(), classes});
    for (std::size_t i = 0; i < y.size(); ++i) {
        if (y(i) >= classes) {
            throw invalid_argument("one_hot: label y(" + std::to_string(i) + ") = " + std::to_string(y(i)) +
                                   " is not < classes = " + std::to_string(classes));
        }
        out(i, y(i)) = T(1);
    }
    return out;
}

/// Splits `data` into (train part, validation part) with `n_validation` samples in the
/// second, drawn by shuffling the sample order with the caller's engine (both parts keep
/// that shuffled order). Throws invalid_argument when n_validation > data.size().
template <class T, class Engine>
inline std::pair<Dataset<T>, Dataset<T>> split_validation(const Dataset<T>& data, std::size_t n_validation,
                                                          Engine& engine)
{
    detail::require(n_validation <= data.size(),
                    "split_validation: argument 'n_validation' = " + std::to_string(n_validation) +
                        " exceeds the dataset size " + std::to_string(data.size()));
    std::vector<std::size_t> order(data.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    rng::shuffle(order.begin(), order.end(), engine);
    const auto cut = order.begin() + static_cast<std::ptrdiff_t>(n_validation);
    std::vector<std::size_t> validation(order.begin(), cut);
    std::vector<std::size_t> train(cut, order.end());
    return {data.subset(train), data.subset(validation)};
}

}  // namespace sleepnet
