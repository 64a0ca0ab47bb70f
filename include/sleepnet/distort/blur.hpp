#pragma once
// Gaussian blur, the second distortion of the paper (accuracy against blur sigma).
//
// Each row of x is one image of `rows` x `cols` pixels stored row-major (MNIST: 28 x 28).
// The blur is separable: a 1-D kernel along the columns of every image row, then along
// the rows of every image column (computed in double, one intermediate image per image).
//
// Kernel. w(k) = exp(-k^2 / (2 sigma^2)) for integer k in [-r, r], divided by its sum, so
// the weights sum to 1. The radius follows scipy.ndimage.gaussian_filter with its default
// truncate = 4.0:
//     r = floor(4 sigma + 0.5)        (scipy: int(truncate * sigma + 0.5))
// (not ceil(4 sigma): the two differ e.g. at sigma = 0.6, r = 2 here and 3 with ceil).
// With this radius and BorderMode::reflect the result equals
// scipy.ndimage.gaussian_filter(image, sigma) (mode='reflect', the scipy default and what
// Foolbox's GaussianBlurAttack calls) up to rounding; with replicate it equals scipy's
// mode='nearest', with constant_zero scipy's mode='constant', cval=0.
// Sigmas below 0.125 give r = 0, the kernel [1]: the image is only clipped.
//
// Borders (pixels a b c d of one line, '|' the image edges):
// - reflect:       d c b a | a b c d | d c b a   (edge pixel repeated; scipy 'reflect',
//                  numpy 'symmetric'); repeats with period 2n when r exceeds the line.
// - replicate:     a a a a | a b c d | d d d d   (scipy 'nearest', MATLAB imgaussfilt's
//                  default 'replicate').
// - constant_zero: 0 0 0 0 | a b c d | 0 0 0 0   (scipy 'constant' with cval = 0).
// A constant image stays constant under reflect and replicate; under constant_zero it
// darkens near the borders.
//
// The result is clipped to [lo, hi] (in double, then rounded to T). Sigma 0 returns x
// unchanged (not clipped). Deterministic: a fixed summation order, no threads.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../core/enum_names.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "noise.hpp"  // detail::distort_format, detail::distort_check_bounds

namespace sleepnet {

enum class BorderMode {
    reflect,        ///< d c b a | a b c d | d c b a (scipy 'reflect')
    replicate,      ///< a a a a | a b c d | d d d d (scipy 'nearest')
    constant_zero,  ///< 0 0 0 0 | a b c d | 0 0 0 0 (scipy 'constant', cval 0)
};

template <>
struct EnumNames<BorderMode> {
    static constexpr const char* kind = "border mode";
    static constexpr EnumName<BorderMode> table[] = {{BorderMode::reflect, "reflect"},
                                                     {BorderMode::replicate, "replicate"},
                                                     {BorderMode::constant_zero, "constant_zero"}};
};

/// Largest sigma accepted (the kernel has 2 floor(4 sigma + 0.5) + 1 weights).
constexpr double max_blur_sigma = 1.0e6;

/// Throws invalid_argument naming `argument` when sigma is negative, not finite or above
/// max_blur_sigma.
inline void check_blur_sigma(double sigma, const char* where = "gaussian_blur", const char* argument = "sigma")
{
    if (!std::isfinite(sigma) || sigma < 0.0 || sigma > max_blur_sigma) {
        throw invalid_argument(std::string(where) + ": argument '" + argument + "' must be finite and in [0, " +
                               detail::distort_format(max_blur_sigma) + "], got " + detail::distort_format(sigma));
    }
}

/// Kernel radius for sigma: floor(4 sigma + 0.5) (scipy.ndimage, truncate = 4).
inline std::size_t blur_radius(double sigma)
{
    check_blur_sigma(sigma, "blur_radius");
    return static_cast<std::size_t>(std::floor(4.0 * sigma + 0.5));
}

/// The normalized 1-D kernel, 2 r + 1 weights w(-r) .. w(r) summing to 1 ([1] for sigma 0).
inline std::vector<double> gaussian_kernel(double sigma)
{
    check_blur_sigma(sigma, "gaussian_kernel");
    const std::size_t r = blur_radius(sigma);
    std::vector<double> w(2 * r + 1, 0.0);
    if (r == 0) {
        w[0] = 1.0;
        return w;
    }
    double sum = 0.0;
    for (std::size_t i = 0; i < w.size(); ++i) {
        const double k = static_cast<double>(i) - static_cast<double>(r);
        w[i] = std::exp(-k * k / (2.0 * sigma * sigma));
        sum += w[i];
    }
    for (double& v : w) {
        v /= sum;
    }
    return w;
}

namespace detail {

/// For a line of n pixels padded by r on each side: source index of padded position k
/// (k = 0 .. n + 2r - 1, pixel p = k - r), or -1 for a zero (constant_zero outside).
inline std::vector<std::ptrdiff_t> blur_index_map(std::size_t n, std::size_t r, BorderMode border)
{
    const auto sn = static_cast<std::ptrdiff_t>(n);
    const auto sr = static_cast<std::ptrdiff_t>(r);
    std::vector<std::ptrdiff_t> map(n + 2 * r);
    for (std::ptrdiff_t k = 0; k < sn + 2 * sr; ++k) {
        const std::ptrdiff_t p = k - sr;
        std::ptrdiff_t s = p;
        if (p < 0 || p >= sn) {
            switch (border) {
            case BorderMode::reflect: {
                const std::ptrdiff_t period = 2 * sn;
                std::ptrdiff_t m = p % period;
                if (m < 0) m += period;
                s = m < sn ? m : period - 1 - m;
                break;
            }
            case BorderMode::replicate:
                s = p < 0 ? 0 : sn - 1;
                break;
            case BorderMode::constant_zero:
                s = -1;
                break;
            }
        }
        map[static_cast<std::size_t>(k)] = s;
    }
    return map;
}

/// Blurs `count` images (rows x cols each, consecutive in src) into dst with kernel w and
/// clips to [lo, hi]. src and dst must not overlap.
template <class T>
class GaussianBlurrer {
public:
    GaussianBlurrer(std::size_t rows, std::size_t cols, double sigma, BorderMode border, double lo, double hi)
        : rows_(rows), cols_(cols), lo_(lo), hi_(hi), w_(gaussian_kernel(sigma)), r_((w_.size() - 1) / 2),
          col_map_(blur_index_map(cols, r_, border)), row_map_(blur_index_map(rows, r_, border)), img_(rows * cols),
          tmp_(rows * cols), acc_(cols), line_(cols + 2 * r_)
    {
    }

    void operator()(const T* src, T* dst, std::size_t count)
    {
        const std::size_t d = rows_ * cols_;
        const std::size_t taps = w_.size();
        for (std::size_t img = 0; img < count; ++img) {
            const T* s = src + img * d;
            T* o = dst + img * d;
            for (std::size_t k = 0; k < d; ++k) {
                img_[k] = static_cast<double>(s[k]);
            }
            // along each image row (over columns)
            for (std::size_t i = 0; i < rows_; ++i) {
                const double* in = img_.data() + i * cols_;
                for (std::size_t k = 0; k < line_.size(); ++k) {
                    const std::ptrdiff_t m = col_map_[k];
                    line_[k] = m < 0 ? 0.0 : in[m];
                }
                double* out = tmp_.data() + i * cols_;
                for (std::size_t j = 0; j < cols_; ++j) {
                    double a = 0.0;
                    for (std::size_t t = 0; t < taps; ++t) {
                        a += w_[t] * line_[j + t];
                    }
                    out[j] = a;
                }
            }
            // along each image column (over rows): whole-row axpys
            for (std::size_t i = 0; i < rows_; ++i) {
                std::fill(acc_.begin(), acc_.end(), 0.0);
                for (std::size_t t = 0; t < taps; ++t) {
                    const std::ptrdiff_t m = row_map_[i + t];
                    if (m < 0) continue;
                    const double wt = w_[t];
                    const double* in = tmp_.data() + static_cast<std::size_t>(m) * cols_;
                    for (std::size_t j = 0; j < cols_; ++j) {
                        acc_[j] += wt * in[j];
                    }
                }
                T* out = o + i * cols_;
                for (std::size_t j = 0; j < cols_; ++j) {
                    const double v = acc_[j];
                    out[j] = static_cast<T>(std::min(std::max(v, lo_), hi_));
                }
            }
        }
    }

private:
    std::size_t rows_, cols_;
    double lo_, hi_;
    std::vector<double> w_;
    std::size_t r_;
    std::vector<std::ptrdiff_t> col_map_, row_map_;
    std::vector<double> img_, tmp_, acc_, line_;
};

inline void check_image_shape(const char* where, std::size_t columns, std::size_t rows, std::size_t cols)
{
    if (rows == 0 || cols == 0 || rows * cols != columns) {
        throw invalid_argument(std::string(where) + ": arguments 'rows' x 'cols' = " + std::to_string(rows) + " x " +
                               std::to_string(cols) + " must be > 0 and equal the " + std::to_string(columns) +
                               " columns of x");
    }
}

}  // namespace detail

/// Every row of x (a rows x cols image, row-major) blurred with a Gaussian of standard
/// deviation sigma pixels (separable, radius floor(4 sigma + 0.5), weights normalized to
/// sum 1), borders extended by `border`, clipped to [lo, hi]. Sigma 0 returns a copy of x.
/// Throws invalid_argument for rows * cols != x columns (or 0), a negative, non-finite or
/// huge (> max_blur_sigma) sigma, or bounds that are not finite with lo <= hi.
template <class T>
inline matrix<T> gaussian_blur(const matrix<T>& x, std::size_t rows, std::size_t cols, double sigma,
                               BorderMode border = BorderMode::reflect, double lo = 0.0, double hi = 1.0)
{
    detail::check_image_shape("gaussian_blur", x.shape()[1], rows, cols);
    check_blur_sigma(sigma, "gaussian_blur", "sigma");
    detail::distort_check_bounds("gaussian_blur", lo, hi);
    if (sigma == 0.0) {
        return x;
    }
    matrix<T> out = matrix<T>::from_shape({x.shape()[0], x.shape()[1]});
    detail::GaussianBlurrer<T> blur(rows, cols, sigma, border, lo, hi);
    blur(x.data(), out.data(), x.shape()[0]);
    return out;
}

}  // namespace sleepnet
