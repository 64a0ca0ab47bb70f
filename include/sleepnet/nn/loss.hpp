#pragma once
// Losses. A loss maps the network's last layer (pre-activation z, output a = act(z)) and
// a target matrix (one-hot or soft labels, N x outputs) to the mean loss over the batch
// and to dLoss/dz, which DenseNetwork::backward takes.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "activation.hpp"

namespace sleepnet {
namespace detail {

template <class T>
struct identity {
    using type = T;
};
template <class T>
using identity_t = typename identity<T>::type;  // blocks deduction (nullptr is accepted)

template <class T>
inline void check_loss_shapes(const matrix<T>& z, const matrix<T>& a, const matrix<T>& target, const char* name)
{
    if (z.shape() != a.shape() || z.shape() != target.shape()) {
        throw invalid_argument(std::string(name) + ": shapes differ: pre-activation " + shape_string(z) + ", output " +
                               shape_string(a) + ", target " + shape_string(target));
    }
    if (z.shape()[0] == 0) {
        throw invalid_argument(std::string(name) + ": empty batch");
    }
}

template <class T>
inline T activation_derivative(Activation act, T z)
{
    return act == Activation::relu ? (z > T(0) ? T(1) : T(0)) : T(1);
}

}  // namespace detail

/// Mean squared error as in the authors' code: L = 1/(2m) * sum (y - a)^2 on the outputs a.
/// The authors back-propagate delta = (a - y) / m without the output activation's
/// derivative (DeepLearnToolbox treats the ReLU output like a linear one); that is the
/// default. `exact = true` gives the true gradient (a - y) * act'(z) / m.
struct MseLoss {
    bool exact = false;

    std::string name() const { return exact ? "mse-exact" : "mse"; }

    template <class T>
    T operator()(const matrix<T>& z, const matrix<T>& a, const matrix<T>& target, Activation output,
                 detail::identity_t<matrix<T>>* dz = nullptr) const
    {
        detail::check_loss_shapes(z, a, target, "MseLoss");
        const std::size_t n = z.shape()[0];
        const std::size_t count = z.size();
        const T inv_m = T(1) / static_cast<T>(n);
        double sum = 0.0;
        if (dz != nullptr && dz->shape() != z.shape()) {
            dz->resize({z.shape()[0], z.shape()[1]});
        }
        const T* zp = z.data();
        const T* ap = a.data();
        const T* yp = target.data();
        for (std::size_t i = 0; i < count; ++i) {
            const T e = ap[i] - yp[i];
            sum += static_cast<double>(e) * static_cast<double>(e);
            if (dz != nullptr) {
                const T d = exact ? detail::activation_derivative(output, zp[i]) : T(1);
                dz->data()[i] = e * d * inv_m;
            }
        }
        return static_cast<T>(0.5 * sum / static_cast<double>(n));
    }
};

/// Softmax cross-entropy at temperature T on the network outputs a (use a linear output
/// layer for the usual logits form): p = softmax(a / T), L = -1/m * sum y log p,
/// dL/dz = (p - y) / (T m) * act'(z).
struct SoftmaxCrossEntropy {
    double temperature = 1.0;

    std::string name() const { return "softmax-cross-entropy"; }

    template <class T>
    T operator()(const matrix<T>& z, const matrix<T>& a, const matrix<T>& target, Activation output,
                 detail::identity_t<matrix<T>>* dz = nullptr) const
    {
        detail::check_loss_shapes(z, a, target, "SoftmaxCrossEntropy");
        check::finite_positive("SoftmaxCrossEntropy", "temperature", temperature);
        const std::size_t n = z.shape()[0];
        const std::size_t c = z.shape()[1];
        if (dz != nullptr && dz->shape() != z.shape()) {
            dz->resize({n, c});
        }
        const double inv_t = 1.0 / temperature;
        double total = 0.0;
        std::vector<double> p(c);
        for (std::size_t i = 0; i < n; ++i) {
            const T* ar = a.data() + i * c;
            const T* yr = target.data() + i * c;
            double mx = -INFINITY;
            for (std::size_t k = 0; k < c; ++k) {
                mx = std::max(mx, static_cast<double>(ar[k]) * inv_t);
            }
            double s = 0.0;
            for (std::size_t k = 0; k < c; ++k) {
                p[k] = std::exp(static_cast<double>(ar[k]) * inv_t - mx);
                s += p[k];
            }
            const double log_s = std::log(s);
            for (std::size_t k = 0; k < c; ++k) {
                const double log_p = static_cast<double>(ar[k]) * inv_t - mx - log_s;
                if (yr[k] != T(0)) {
                    total -= static_cast<double>(yr[k]) * log_p;
                }
                if (dz != nullptr) {
                    const double d = (p[k] / s - static_cast<double>(yr[k])) * inv_t / static_cast<double>(n);
                    dz->data()[i * c + k] =
                        static_cast<T>(d) * detail::activation_derivative(output, z.data()[i * c + k]);
                }
            }
        }
        return static_cast<T>(total / static_cast<double>(n));
    }
};

/// Row-wise softmax of a / temperature (probabilities, e.g. distillation's soft labels).
template <class T>
inline matrix<T> softmax(const matrix<T>& a, double temperature = 1.0)
{
    check::finite_positive("softmax", "temperature", temperature);
    const std::size_t n = a.shape()[0];
    const std::size_t c = a.shape()[1];
    matrix<T> p = matrix<T>::from_shape({n, c});
    for (std::size_t i = 0; i < n; ++i) {
        double mx = -INFINITY;
        for (std::size_t k = 0; k < c; ++k) {
            mx = std::max(mx, static_cast<double>(a(i, k)) / temperature);
        }
        double s = 0.0;
        for (std::size_t k = 0; k < c; ++k) {
            s += std::exp(static_cast<double>(a(i, k)) / temperature - mx);
        }
        for (std::size_t k = 0; k < c; ++k) {
            p(i, k) = static_cast<T>(std::exp(static_cast<double>(a(i, k)) / temperature - mx) / s);
        }
    }
    return p;
}

}  // namespace sleepnet
