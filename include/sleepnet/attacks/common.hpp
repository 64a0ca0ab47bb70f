#pragma once
// What every attack shares: per-sample results, the aggregate scores of the paper, the
// loss gradient with respect to the inputs, and re-verification.
//
// Conventions (Foolbox v1/v2, which the paper cites):
// - inputs the network already misclassifies are skipped: not attempted, excluded from
//   every score;
// - "adversarial" means argmax of the logits differs from the label (first index on ties);
// - distance = ||x' - x||^2 / (N (hi - lo)^2), the paper's mean squared distance;
// - scores are medians over the attempted inputs, failures counting as +infinity;
// - every returned adversarial is re-checked through DenseNetwork::predict, the same
//   deterministic path accuracy uses, so a reported success is a real misclassification;
// - the caller's inputs are never modified.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "../core/enum_names.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../nn/dense_network.hpp"
#include "logit_losses.hpp"

namespace sleepnet {

/// Valid input range of the attacked data.
struct Bounds {
    double lo = 0.0;
    double hi = 1.0;
};

/// Which loss FGSM differentiates (DeepFool and JSMA work on the logits).
enum class AttackLoss {
    network,        ///< the authors' training loss: 1/2 ||onehot(y) - output||^2 with their delta
    cross_entropy,  ///< softmax cross-entropy on the logits
};

template <>
struct EnumNames<AttackLoss> {
    static constexpr const char* kind = "attack loss";
    static constexpr EnumName<AttackLoss> table[] = {{AttackLoss::network, "network"},
                                                     {AttackLoss::cross_entropy, "cross_entropy"}};
};

struct AttackSample {
    std::size_t index = 0;  ///< row of the input matrix
    std::size_t label = 0;
    std::size_t clean_prediction = 0;
    bool attempted = false;  ///< correctly classified before the attack
    bool success = false;    ///< a verified adversarial was found
    std::size_t adversarial_prediction = 0;
    double distance = std::numeric_limits<double>::infinity();  ///< mean squared distance; +inf on failure
    /// minimal-budget attacks (FGSM, pgd_minimal, FMN): the smallest budget, as a norm in
    /// units of the input range, at which an adversarial was found (+inf on failure);
    /// Square: the L-inf norm of its adversarial; NaN for attacks that do not report one
    double epsilon = std::numeric_limits<double>::quiet_NaN();
    std::size_t iterations = 0;  ///< attack iterations (FGSM: grid points up to the hit plus refinements)
};

template <class T>
struct AttackResult {
    std::string attack;
    std::vector<AttackSample> samples;
    matrix<T> adversarial;  ///< N x D: the adversarial where success, the input otherwise

    std::size_t attempted() const
    {
        return static_cast<std::size_t>(
            std::count_if(samples.begin(), samples.end(), [](const AttackSample& s) { return s.attempted; }));
    }
    std::size_t successes() const
    {
        return static_cast<std::size_t>(
            std::count_if(samples.begin(), samples.end(), [](const AttackSample& s) { return s.success; }));
    }
    /// flipped / attempted (0 when nothing was attempted).
    double success_rate() const
    {
        const std::size_t a = attempted();
        return a == 0 ? 0.0 : static_cast<double>(successes()) / static_cast<double>(a);
    }
    /// Inputs classified correctly and not broken by the attack, over all inputs (the
    /// robust accuracy of fixed-budget attacks; misclassified inputs count as broken).
    double robust_accuracy() const
    {
        return samples.empty() ? 0.0
                               : static_cast<double>(attempted() - successes()) / static_cast<double>(samples.size());
    }
    /// Median distance over attempted inputs (failures = +inf): the paper's score for
    /// DeepFool, JSMA and Boundary.
    double median_distance() const;
    /// Median minimal epsilon over attempted inputs (failures = +inf): the FGSM score.
    double median_epsilon() const;
};

/// Median of values (+inf allowed); NaN for an empty list. Even counts average the two
/// middle values (inf if either is inf).
inline double median(std::vector<double> v)
{
    if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    if (n % 2 == 1) return v[n / 2];
    const double a = v[n / 2 - 1], b = v[n / 2];
    if (std::isinf(a) || std::isinf(b)) return std::isinf(b) ? b : a;
    return 0.5 * (a + b);
}

template <class T>
double AttackResult<T>::median_distance() const
{
    std::vector<double> v;
    for (const auto& s : samples)
        if (s.attempted) v.push_back(s.success ? s.distance : std::numeric_limits<double>::infinity());
    return median(std::move(v));
}

template <class T>
double AttackResult<T>::median_epsilon() const
{
    std::vector<double> v;
    for (const auto& s : samples)
        if (s.attempted) v.push_back(s.success ? s.epsilon : std::numeric_limits<double>::infinity());
    return median(std::move(v));
}

/// ||a - b||^2 / (N (hi - lo)^2) for two rows of length n.
template <class T>
inline double mean_squared_distance(const T* a, const T* b, std::size_t n, const Bounds& bounds = {})
{
    double s = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
        const double d = static_cast<double>(a[j]) - static_cast<double>(b[j]);
        s += d * d;
    }
    const double r = bounds.hi - bounds.lo;
    return s / (static_cast<double>(n) * r * r);
}

/// The norm a perturbation budget is measured in.
enum class Norm { linf, l2 };

template <>
struct EnumNames<Norm> {
    static constexpr const char* kind = "norm";
    static constexpr EnumName<Norm> table[] = {{Norm::linf, "linf"}, {Norm::l2, "l2"}};
};

/// "linf" | "l2".
inline Norm norm_from_string(const std::string& s) { return enum_from_string<Norm>(s); }

/// ||a - b|| / (hi - lo) in the given norm, for two rows of length n: budgets are in units
/// of the input range, as FGSM's epsilon (on [0, 1] data, plain distances).
template <class T>
inline double perturbation_norm(const T* a, const T* b, std::size_t n, Norm norm, const Bounds& bounds = {})
{
    double s = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
        const double d = std::abs(static_cast<double>(a[j]) - static_cast<double>(b[j]));
        s = norm == Norm::linf ? std::max(s, d) : s + d * d;
    }
    return (norm == Norm::linf ? s : std::sqrt(s)) / (bounds.hi - bounds.lo);
}

namespace detail {

/// Buffers of logit_pass, reused across calls.
template <class T>
struct LogitPass {
    ExactState<T> st;
    matrix<T> dz, dx;               ///< dLoss/dlogits (n x classes); dLoss/dx (n x inputs)
    std::vector<double> g, value;   ///< one row's dLoss/dlogits; the loss per row
    std::vector<char> adversarial;  ///< argmax of the logits (first index on ties) != label
};

/// One deterministic pass over n rows at x (row-major): w.value[r] = logit_loss(loss, logits
/// of row r, label_of(r), target_of(r)), w.dz its gradient, w.adversarial[r]; with
/// with_gradient also w.dx = dLoss/dx through exact_backward.
template <class T, class LabelOf, class TargetOf>
inline void logit_pass(const DenseNetwork<T>& net, const T* x, std::size_t n, LogitLoss loss, LabelOf&& label_of,
                       TargetOf&& target_of, bool with_gradient, LogitPass<T>& w)
{
    const std::size_t c = net.output_size();
    net.exact_forward(x, n, w.st);
    const T* zt = w.st.zt.back().data();  // c x n
    resize_if_needed(w.dz, n, c);
    w.g.resize(c);
    w.value.resize(n);
    w.adversarial.resize(n);
    for (std::size_t r = 0; r < n; ++r) {
        const std::size_t label = label_of(r);
        w.value[r] = logit_loss(loss, zt + r, n, c, label, target_of(r), w.g.data());
        std::size_t top = 0;
        for (std::size_t k = 0; k < c; ++k) {
            w.dz(r, k) = static_cast<T>(w.g[k]);
            if (zt[k * n + r] > zt[top * n + r]) top = k;
        }
        w.adversarial[r] = top != label ? 1 : 0;
    }
    if (with_gradient) net.exact_backward(w.st, w.dz, w.dx);
}

template <class T>
inline void check_attack_inputs(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                const Bounds& bounds, const char* who)
{
    net.check_input(x, who);
    if (x.shape()[0] != y.size()) {
        throw invalid_argument(std::string(who) + ": " + std::to_string(x.shape()[0]) + " inputs but " +
                               std::to_string(y.size()) + " labels");
    }
    if (!(bounds.hi > bounds.lo) || !std::isfinite(bounds.lo) || !std::isfinite(bounds.hi)) {
        throw invalid_argument(std::string(who) + ": bounds must satisfy lo < hi, got [" + std::to_string(bounds.lo) +
                               ", " + std::to_string(bounds.hi) + "]");
    }
    for (std::size_t i = 0; i < y.size(); ++i) {
        if (y(i) >= net.output_size()) {
            throw invalid_argument(std::string(who) + ": label " + std::to_string(y(i)) + " of input " +
                                   std::to_string(i) + " is not below the " + std::to_string(net.output_size()) +
                                   " outputs");
        }
    }
    for (std::size_t k = 0; k < x.size(); ++k) {
        const double v = static_cast<double>(x.data()[k]);
        if (!(v >= bounds.lo && v <= bounds.hi)) {
            throw invalid_argument(std::string(who) + ": input " + std::to_string(k / x.shape()[1]) + ", element " +
                                   std::to_string(k % x.shape()[1]) + " = " + std::to_string(v) + " is outside [" +
                                   std::to_string(bounds.lo) + ", " + std::to_string(bounds.hi) + "]");
        }
    }
}

/// A result with every sample's clean prediction filled in and the adversarial matrix set
/// to the inputs.
template <class T>
inline AttackResult<T> start_result(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                    const std::string& name)
{
    AttackResult<T> r;
    r.attack = name;
    r.adversarial = x;
    const label_vector p = net.predict(x);
    r.samples.resize(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
        auto& s = r.samples[i];
        s.index = i;
        s.label = y(i);
        s.clean_prediction = p(i);
        s.adversarial_prediction = p(i);
        s.attempted = p(i) == y(i);
    }
    return r;
}

/// Re-checks every success through net.predict and fills distances; a success that does
/// not hold up is turned into a failure (and its row reset to the input).
template <class T>
inline void verify_result(const DenseNetwork<T>& net, const matrix<T>& x, AttackResult<T>& r, const Bounds& bounds)
{
    const label_vector p = net.predict(r.adversarial);
    const std::size_t d = x.shape()[1];
    for (auto& s : r.samples) {
        T* row = r.adversarial.data() + s.index * d;
        const T* orig = x.data() + s.index * d;
        if (s.success && p(s.index) != s.label) {
            s.adversarial_prediction = p(s.index);
            s.distance = mean_squared_distance(row, orig, d, bounds);
        } else {
            if (s.success) {  // did not hold up
                s.success = false;
            }
            if (s.attempted) {
                s.distance = std::numeric_limits<double>::infinity();
                if (!std::isnan(s.epsilon)) s.epsilon = std::numeric_limits<double>::infinity();
            } else {
                s.distance = 0.0;
            }
            std::copy(orig, orig + d, row);
            s.adversarial_prediction = s.clean_prediction;
        }
    }
}

/// Per-sample gradient of the attack loss with respect to the inputs (N x D), test mode.
/// Computed in chunks of inference_chunk rows (each sample's gradient does not depend on
/// its chunk; the buffers stay small).
template <class T>
inline matrix<T> loss_input_gradient(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                     AttackLoss loss)
{
    net.check_input(x, "loss_input_gradient");
    const std::size_t rows = x.shape()[0], d = net.input_size();
    const std::size_t c = net.output_size();
    matrix<T> out = matrix<T>::from_shape({rows, d});
    ExactState<T> st;
    matrix<T> dz, dx;
    std::vector<double> g(c);
    for (std::size_t i0 = 0; i0 < rows; i0 += inference_chunk) {
        const std::size_t n = std::min(rows - i0, inference_chunk);
        net.exact_forward(x.data() + i0 * d, n, st);
        resize_if_needed(dz, n, c);
        const auto& zt = st.zt.back();  // c x n
        const auto& at = st.at.back();
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t label = y(i0 + i);
            if (loss == AttackLoss::network) {
                // the authors' delta: output - target, no output-activation derivative
                for (std::size_t k = 0; k < c; ++k) dz(i, k) = at(k, i) - (k == label ? T(1) : T(0));
            } else {
                logit_loss(LogitLoss::cross_entropy, zt.data() + i, n, c, label, 0, g.data());
                for (std::size_t k = 0; k < c; ++k) dz(i, k) = static_cast<T>(g[k]);
            }
        }
        net.exact_backward(st, dz, dx);
        std::copy(dx.data(), dx.data() + n * d, out.data() + i0 * d);
    }
    return out;
}

}  // namespace detail
}  // namespace sleepnet
