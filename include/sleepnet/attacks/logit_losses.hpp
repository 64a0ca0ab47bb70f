#pragma once
// Losses on the logits that gradient attacks maximise, with their gradients.
//
// z are the logits (pre-activations of the last layer), y the label, t a target class:
//   cross_entropy  log sum_k exp z_k - z_y
//   margin         max_{k != y} z_k - z_y                        (Carlini & Wagner)
//   dlr            -(z_y - max_{k != y} z_k) / (z_p1 - z_p3 + 1e-12)      (Croce & Hein 2020)
//   targeted_dlr   -(z_y - z_t) / (z_p1 - (z_p3 + z_p4) / 2 + 1e-12)
// where z_p1 >= z_p2 >= ... are the logits sorted in decreasing order. A sample is
// misclassified exactly when the margin loss is > 0 (or = 0 with a tie the argmax
// resolves to another class). margin, dlr and targeted_dlr are invariant to a positive
// scaling of the logits (dlr also to a shift), so a temperature or saturated outputs do not
// hide their gradient; cross-entropy's gradient vanishes when softmax saturates.
//
// Logits are read with a stride, so a column of a feature-major (classes x samples)
// matrix can be passed directly: logit k is z[k * stride].

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

#include "../core/enum_names.hpp"
#include "../core/error.hpp"

namespace sleepnet {

enum class LogitLoss { cross_entropy, margin, dlr, targeted_dlr };

template <>
struct EnumNames<LogitLoss> {
    static constexpr const char* kind = "logit loss";
    static constexpr EnumName<LogitLoss> table[] = {{LogitLoss::cross_entropy, "ce"},
                                                    {LogitLoss::margin, "margin"},
                                                    {LogitLoss::dlr, "dlr"},
                                                    {LogitLoss::targeted_dlr, "dlr-t"}};
};

/// "ce" | "margin" | "dlr" | "dlr-t" (the names to_string gives).
inline LogitLoss logit_loss_from_string(const std::string& s) { return enum_from_string<LogitLoss>(s); }

/// Fewest classes the loss is defined for (dlr needs a third logit, targeted dlr a fourth).
inline std::size_t min_classes(LogitLoss l) { return l == LogitLoss::targeted_dlr ? 4 : (l == LogitLoss::dlr ? 3 : 2); }

/// z_y - max_{k != y} z_k: > 0 when y wins clearly.
template <class T>
inline double logit_margin(const T* z, std::size_t stride, std::size_t classes, std::size_t y)
{
    double best = -std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < classes; ++k)
        if (k != y) best = std::max(best, static_cast<double>(z[k * stride]));
    return static_cast<double>(z[y * stride]) - best;
}

namespace detail {

/// Indices of the four largest logits, in decreasing order (first index on ties).
template <class T>
inline void top4(const T* z, std::size_t stride, std::size_t classes, std::size_t (&p)[4])
{
    for (std::size_t r = 0; r < 4; ++r) {
        std::size_t best = classes;
        for (std::size_t k = 0; k < classes; ++k) {
            bool used = false;
            for (std::size_t q = 0; q < r; ++q) used = used || p[q] == k;
            if (!used && (best == classes || z[k * stride] > z[best * stride])) best = k;
        }
        p[r] = best;  // == classes when fewer than r + 1 classes
    }
}

}  // namespace detail

/// The loss value at logits z (label y, target t for targeted_dlr); when grad is not null
/// it receives dLoss/dz_k for k < classes (grad[k], contiguous).
template <class T>
inline double logit_loss(LogitLoss loss, const T* z, std::size_t stride, std::size_t classes, std::size_t y,
                         std::size_t t, double* grad)
{
    auto at = [&](std::size_t k) { return static_cast<double>(z[k * stride]); };
    if (grad) std::fill(grad, grad + classes, 0.0);
    if (loss == LogitLoss::cross_entropy) {
        double mx = -std::numeric_limits<double>::infinity();
        for (std::size_t k = 0; k < classes; ++k) mx = std::max(mx, at(k));
        double s = 0.0;
        for (std::size_t k = 0; k < classes; ++k) s += std::exp(at(k) - mx);
        if (grad) {
            for (std::size_t k = 0; k < classes; ++k) grad[k] = std::exp(at(k) - mx) / s;
            grad[y] -= 1.0;
        }
        return mx + std::log(s) - at(y);
    }
    std::size_t other = classes;  // argmax over k != y
    for (std::size_t k = 0; k < classes; ++k)
        if (k != y && (other == classes || at(k) > at(other))) other = k;
    if (loss == LogitLoss::margin) {
        if (grad) {
            grad[other] += 1.0;
            grad[y] -= 1.0;
        }
        return at(other) - at(y);
    }
    std::size_t p[4];
    detail::top4(z, stride, classes, p);
    const bool targeted = loss == LogitLoss::targeted_dlr;
    const std::size_t rival = targeted ? t : other;
    const double num = at(y) - at(rival);
    const double den = targeted ? at(p[0]) - 0.5 * (at(p[2]) + at(p[3])) + 1e-12 : at(p[0]) - at(p[2]) + 1e-12;
    if (grad) {
        // loss = -num / den: d/dz = -dnum / den + num / den^2 * dden
        grad[y] -= 1.0 / den;
        grad[rival] += 1.0 / den;
        const double f = num / (den * den);
        grad[p[0]] += f;
        if (targeted) {
            grad[p[2]] -= 0.5 * f;
            grad[p[3]] -= 0.5 * f;
        } else {
            grad[p[2]] -= f;
        }
    }
    return -num / den;
}

}  // namespace sleepnet
