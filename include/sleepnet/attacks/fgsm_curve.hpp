#pragma once
// FGSM accuracy-versus-epsilon curves (the paper's Fig. 1): for each epsilon of a list,
// the accuracy on clip(x + eps g), g = fgsm_direction(x) computed once at x. Every input
// counts (misclassified ones stay in the denominator), as in the paper's plots.
//
// The brute force evaluates every (input, epsilon) pair. The certified scan (the default,
// FgsmCurveOptions::certify) gives the same accuracies, bit for bit, with fewer forward
// passes. Along each input's ray it walks the sorted, distinct epsilons of the list:
//   - it bounds a segment of consecutive points (FgsmCertifier) labelled with the class
//     predicted at the point before it; a certified segment keeps that class at each of
//     its points, be it the right class or a wrong one (fgsm() certifies only the right
//     one, the curve needs both);
//   - a failed segment shrinks, and runs of at most certify.leaf points next to a
//     predicted change of class are evaluated through the network;
//   - segment widths follow the linearized margin of the last bound (fgsm_certify_width,
//     as in fgsm()'s scan, in units of grid points).
// The first point of every input is evaluated. A point's class is either evaluated or
// certified, so the counts are the brute force's whatever got certified. Networks or bounds
// the certifier does not cover (FgsmCertifier::applicable) use the brute force.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "../core/check.hpp"
#include "../core/tensor.hpp"
#include "../nn/dense_network.hpp"
#include "common.hpp"
#include "fgsm.hpp"
#include "fgsm_certify.hpp"

namespace sleepnet {

/// Options of fgsm_curve().
struct FgsmCurveOptions {
    AttackLoss loss = AttackLoss::network;
    Bounds bounds;
    std::size_t batch_rows = 4096;  ///< candidate rows per forward pass (memory bound only)
    FgsmCertifyOptions certify;     ///< enabled = false: brute force; first = 0: a tenth of the points

    /// Throws invalid_argument naming the field.
    void validate() const
    {
        const std::string who = "FgsmCurveOptions";
        check::positive(who, "batch_rows", batch_rows);
        certify.validate(who, "certify.");
    }
};

/// Work done by one fgsm_curve() call.
struct FgsmCurveStats {
    std::size_t bounds = 0;           ///< segment bounds computed
    std::size_t certified_right = 0;  ///< segments certified to keep the input's label
    std::size_t certified_wrong = 0;  ///< segments certified to keep one wrong class
    std::size_t evaluations = 0;      ///< candidate rows evaluated through the network
};

/// fgsm_curve()'s result.
struct FgsmCurve {
    std::vector<double> accuracy;  ///< per epsilon of the call, in its order
    FgsmCurveStats stats;
};

namespace detail {

/// A curve computation: its inputs, the sorted distinct epsilons, and per point the number
/// of inputs whose class is their label (evaluated points; certified runs as +1 at their
/// first point and -1 past their last).
template <class T>
struct FgsmCurveScan {
    const DenseNetwork<T>& net;
    const matrix<T>& x;
    const matrix<T>& g;
    const label_vector& y;
    const FgsmCurveOptions& o;
    std::vector<double> eps;  ///< sorted, distinct
    FgsmCurveStats& stats;
    std::vector<std::size_t> right;        ///< per point: evaluated rows with the right class
    std::vector<long long> certified_run;  ///< per point (+1 slot): runs certified to the right class
    ScratchMatrix<T> cand;
    ExactState<T> st;

    std::size_t points() const { return eps.size(); }

    /// Classes of the (sample, epsilon) rows, in batches of o.batch_rows.
    std::vector<std::size_t> classes(const std::vector<std::size_t>& sample, const std::vector<double>& e)
    {
        std::vector<std::size_t> cls;
        cls.reserve(sample.size());
        std::vector<std::size_t> bs;
        std::vector<double> be;
        for (std::size_t r0 = 0; r0 < sample.size(); r0 += o.batch_rows) {
            const std::size_t r1 = std::min(sample.size(), r0 + o.batch_rows);
            bs.assign(sample.begin() + static_cast<std::ptrdiff_t>(r0),
                      sample.begin() + static_cast<std::ptrdiff_t>(r1));
            be.assign(e.begin() + static_cast<std::ptrdiff_t>(r0), e.begin() + static_cast<std::ptrdiff_t>(r1));
            fgsm_candidates(x, g, bs, be, o.bounds, cand);
            const std::vector<std::size_t> c = fgsm_classes(net, cand, bs.size(), st);
            cls.insert(cls.end(), c.begin(), c.end());
        }
        stats.evaluations += sample.size();
        return cls;
    }

    /// Grid points from point f to epsilon `pred` (fractional; < 0: behind f; huge: none).
    double distance(std::size_t f, double pred) const
    {
        const std::size_t n = points();
        if (std::isnan(pred) || pred == std::numeric_limits<double>::infinity()) return 1e18;
        if (pred < eps[f]) return -1.0;
        const std::size_t k = static_cast<std::size_t>(std::upper_bound(eps.begin(), eps.end(), pred) - eps.begin());
        if (k < n) return static_cast<double>(k - 1 - f) + (pred - eps[k - 1]) / (eps[k] - eps[k - 1]);
        if (n < 2) return 1e18;
        return static_cast<double>(n - 1 - f) + (pred - eps[n - 1]) / (eps[n - 1] - eps[n - 2]);
    }
};

/// One chunk of inputs of the certified curve scan: fgsm()'s chunk, and per entry the class
/// at the point before s.f (set by the entry's first evaluation, before any segment).
template <class T>
struct FgsmCurveChunk : FgsmCertChunk<T> {
    std::vector<std::size_t> cls;
};

/// Bounds the round's segments; a certified one moves its input past it (counted when its
/// class is the label), then every bounded input plans its next width.
template <class T>
inline void fgsm_curve_bound(FgsmCurveScan<T>& sc, FgsmCertifier<T>& cert, FgsmCurveChunk<T>& ch)
{
    fgsm_certify_bound_on(
        cert, ch, sc.points(), sc.stats.bounds,
        [&](std::size_t q, const FgsmCertState& s) {
            if (ch.segs[q].label != sc.y(ch.segs[q].sample)) {
                ++sc.stats.certified_wrong;
                return;
            }
            ++sc.stats.certified_right;
            ++sc.certified_run[s.f];
            --sc.certified_run[s.f + s.w];
        },
        [&](FgsmCertState& s, bool failed) { fgsm_certify_width(s, sc.distance(s.f, s.pred), failed, sc.o.certify); });
}

/// Evaluates the round's points and moves their inputs past them. After an input's first
/// point the next width is certify.first; after a change of class the last bound (of the
/// old class) says nothing, and the width starts again from certify.leaf.
template <class T>
inline void fgsm_curve_evaluate(FgsmCurveScan<T>& sc, FgsmCurveChunk<T>& ch)
{
    const std::vector<std::size_t> cls = sc.classes(ch.ex_sample, ch.ex_eps);
    const std::size_t first = sc.o.certify.first == 0 ? std::max<std::size_t>(1, sc.points() / 10) : sc.o.certify.first;
    for (std::size_t r = 0; r < cls.size(); ++r) {
        if (cls[r] == sc.y(ch.ex_sample[r])) ++sc.right[ch.ex_index[r]];
        const std::size_t k = ch.ex_of[r];
        if (r + 1 < cls.size() && ch.ex_of[r + 1] == k) continue;  // act once, at the entry's last row
        FgsmCertState& s = ch.st[k];
        const bool first_run = s.f == 0;
        const std::size_t before = ch.cls[k];
        ch.cls[k] = cls[r];
        s.f += s.w;
        ++s.leaves;
        if (s.f == sc.points()) {
            s.done = true;
        } else if (first_run) {
            s.w = first;
        } else {
            if (before != cls[r]) {
                s.leaves = 0;
                s.pred = -std::numeric_limits<double>::infinity();
            }
            fgsm_certify_width(s, sc.distance(s.f, s.pred), false, sc.o.certify);
        }
    }
}

/// The certified scan of every input, in chunks of certify.chunk inputs; fills sc.right
/// and sc.certified_run.
template <class T>
inline void fgsm_curve_certified(FgsmCurveScan<T>& sc)
{
    const std::size_t n = sc.x.shape()[0];
    FgsmCertifier<T> cert(sc.net, sc.x, sc.g, sc.y, sc.o.bounds, sc.eps.back(), sc.net.inference_threads());
    for (std::size_t c0 = 0; c0 < n; c0 += sc.o.certify.chunk) {
        FgsmCurveChunk<T> ch;
        for (std::size_t i = c0; i < std::min(n, c0 + sc.o.certify.chunk); ++i) ch.samples.push_back(i);
        cert.prepare(ch.samples);
        ch.st.resize(ch.samples.size());
        ch.cls.resize(ch.samples.size());
        for (auto& s : ch.st) {  // the first point is evaluated
            s.f = 0;
            s.w = 1;
            s.exact = true;
        }
        while (fgsm_certify_collect_on(
            ch, sc.points(), sc.o.certify.leaf, [&](std::size_t k) { return sc.eps[k]; },
            [&](std::size_t k) { return ch.cls[k]; })) {
            fgsm_curve_bound(sc, cert, ch);
            fgsm_curve_evaluate(sc, ch);
        }
    }
}

/// Every (input, point) pair through the network.
template <class T>
inline void fgsm_curve_brute(FgsmCurveScan<T>& sc)
{
    const std::size_t n = sc.x.shape()[0];
    std::vector<std::size_t> sample(n);
    for (std::size_t i = 0; i < n; ++i) sample[i] = i;
    for (std::size_t k = 0; k < sc.points(); ++k) {
        const std::vector<std::size_t> cls = sc.classes(sample, std::vector<double>(n, sc.eps[k]));
        for (std::size_t i = 0; i < n; ++i) sc.right[k] += cls[i] == sc.y(i) ? 1 : 0;
    }
}

template <class T>
inline FgsmCurve fgsm_curve_run(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                const std::vector<double>& epsilons, const FgsmCurveOptions& o, const char* who)
{
    o.validate();
    check_attack_inputs(net, x, y, o.bounds, who);
    for (double e : epsilons) check::finite_nonnegative(who, "epsilon", e);
    FgsmCurve out;
    const std::size_t n = x.shape()[0];
    std::vector<double> eps = epsilons;
    std::sort(eps.begin(), eps.end());
    eps.erase(std::unique(eps.begin(), eps.end()), eps.end());
    if (n == 0 || eps.empty()) {
        out.accuracy.assign(epsilons.size(), 0.0);
        return out;
    }
    const matrix<T> g = fgsm_direction(net, x, y, o.loss, o.bounds);
    FgsmCurveScan<T> sc{net,
                        x,
                        g,
                        y,
                        o,
                        eps,
                        out.stats,
                        std::vector<std::size_t>(eps.size(), 0),
                        std::vector<long long>(eps.size() + 1, 0),
                        {},
                        {}};
    if (o.certify.enabled && FgsmCertifier<T>::applicable(net, o.bounds))
        fgsm_curve_certified(sc);
    else
        fgsm_curve_brute(sc);
    std::vector<double> acc(eps.size());
    long long run = 0;
    for (std::size_t k = 0; k < eps.size(); ++k) {
        run += sc.certified_run[k];
        acc[k] = static_cast<double>(static_cast<long long>(sc.right[k]) + run) / static_cast<double>(n);
    }
    for (double e : epsilons)
        out.accuracy.push_back(
            acc[static_cast<std::size_t>(std::lower_bound(eps.begin(), eps.end(), e) - eps.begin())]);
    return out;
}

}  // namespace detail

/// Accuracy on clip(x + eps * sign(gradient)) for each eps of `epsilons` (any order,
/// repeats allowed), and the work it took. Throws invalid_argument on bad options, inputs
/// or a negative or non-finite epsilon.
template <class T>
inline FgsmCurve fgsm_curve(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                            const std::vector<double>& epsilons, const FgsmCurveOptions& options = {})
{
    return detail::fgsm_curve_run(net, x, y, epsilons, options, "fgsm_curve");
}

/// fgsm_curve()'s accuracies with the default scan (the authors' curves use
/// eps = 0 : 0.005 : 0.4).
template <class T>
inline std::vector<double> fgsm_accuracy_curve(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                               const std::vector<double>& epsilons,
                                               AttackLoss loss = AttackLoss::network, const Bounds& bounds = {})
{
    FgsmCurveOptions o;
    o.loss = loss;
    o.bounds = bounds;
    return detail::fgsm_curve_run(net, x, y, epsilons, o, "fgsm_accuracy_curve").accuracy;
}

}  // namespace sleepnet
