#pragma once
// Fast Minimum-Norm attack (FMN), Pintor, Roli, Brendel & Biggio, "Fast Minimum-norm
// Adversarial Attacks through Adaptive Norm Constraints", NeurIPS 2021; L-inf and L2.
//
//   sleepnet::FmnOptions o;
//   o.norm = sleepnet::Norm::l2;
//   auto r = sleepnet::fmn(net, x, y, o);   // r.samples[i].epsilon, r.median_epsilon()
//
// FMN looks for the smallest perturbation that flips the decision: it alternates a
// normalized gradient step on the logit difference with a projection onto a norm ball
// whose radius eps adapts, shrinking while the iterate is adversarial and growing while
// it is not. Per correctly classified input x0 with label y, starting from delta = 0 and
// eps = +inf, for k = 0 .. steps-1 (Algorithm 1 of the paper):
//   loss   L = max_{j != y} z_j - z_y at x0 + delta (logit_loss margin: minus the paper's
//          logit difference z_y - max_{j != y} z_j), g = dL/dx; adversarial = argmax != y
//   best   adversarial and ||delta|| < ||delta*||: delta* = delta
//   eps    adversarial:             eps = min(eps (1 - gamma_k), ||delta*||)
//          not, none found yet:     eps = ||delta|| + |L| / ||g||_dual   (the distance to
//                                   the boundary of the linearized model; dual of L-inf is
//                                   L1, of L2 is L2), but at least eps (1 + gamma_k) once
//                                   eps is finite (see "Safeguard" below)
//          not, one found before:   eps = eps (1 + gamma_k)
//          then eps = min(eps, the largest norm the bounds allow around x0)
//   step   delta += alpha_k g / ||g||_2   (L2-normalized for both norms, as the paper and
//          the reference code: with L-inf the large alpha and the projection make it a
//          sign step on every coordinate the ball clamps)
//   then   delta = projection onto {||delta|| <= eps} (L-inf: clamp every coordinate to
//          [-eps, eps]; L2: rescale when longer), x0 + delta clipped to the bounds.
// alpha_k and gamma_k are cosine-annealed: a_k = a_final + (a_init - a_final)
// (1 + cos(pi k / steps)) / 2. The last iterate is evaluated once more (a forward pass,
// no step) so that every point the attack produced is a candidate for delta*.
//
// Safeguard (not in the paper): before the first adversarial, the paper's radius is the
// linear estimate alone, and that can stall. The estimate counts gradient components the
// bounds block, so an iterate pressed against the box moves a little per step while eps
// stays just above ||delta|| (with the paper's rule, 8 of the 24 inputs of the invariants
// test, a random 12-16-4 ReLU network under L2, never flipped in 60 steps). On an affine
// model the estimate puts the iterate exactly on the boundary, where a tie keeps the label
// when it has the lower index, for ever. Here eps also grows by at least (1 + gamma_k) per
// step until an adversarial is found.
//
// Semantics: deterministic (no random start), one exact_forward + exact_backward per step
// and block of samples, a sample's result does not depend on the other samples or on
// `batch`. Norms and budgets are in units of the input range (hi - lo), like FGSM's
// epsilon: every step is alpha (hi - lo) long, eps is a radius in those units.
// AttackSample::epsilon = ||x* - x0|| / (hi - lo) (perturbation_norm) of the best
// adversarial x* found (returned in AttackResult::adversarial), +inf on failure; NaN for
// skipped (misclassified) inputs. AttackSample::iterations = gradient steps taken: `steps`,
// fewer only when a non-adversarial iterate has a zero gradient (it can never move
// again, so the sample stops there).
//
// Relation to the minimal-eps PGD bisection: the bisection runs a fixed-budget attack at
// each of ~10-15 budgets per sample to bracket the minimal eps. FMN gives each sample's
// minimal norm in one run of `steps` gradient steps, adapting the budget per sample as it
// goes; like any attack it returns an upper bound on the true minimal norm (on affine
// models within 1e-5 of it, relative, in the tests). median_epsilon() is the score.
//
// Defaults: steps 100 (Foolbox 3), gamma 0.05 -> 0.001 (the paper, Foolbox 3 and
// adversarial-library, whose fmn() is adapted from the authors' code); alpha_init 10 for
// L-inf and 1 for L2 (the per-norm settings adversarial-library's benchmark configurations
// use for FMN; the libraries' single default is 1: L-inf wants the larger step so that the
// L2-normalized step saturates the L-inf ball on most coordinates); alpha_final =
// alpha_init / 100 (the default of both libraries).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../nn/dense_network.hpp"
#include "common.hpp"
#include "logit_losses.hpp"

namespace sleepnet {

struct FmnOptions {
    Norm norm = Norm::linf;
    std::size_t steps = 100;  ///< gradient steps (the paper's K)
    /// first step length (L2, units of the range); 0 = the norm's default: 10 (linf), 1 (l2)
    double alpha_init = 0.0;
    double alpha_final = 0.0;    ///< last step length after cosine annealing; 0 = initial_alpha() / 100
    double gamma_init = 0.05;    ///< first relative change of the radius eps
    double gamma_final = 0.001;  ///< last relative change of eps after cosine annealing
    Bounds bounds;
    std::size_t batch = 1024;  ///< samples per forward/backward block (memory bound only; same results)

    /// alpha_init, or the norm's default when it is 0.
    double initial_alpha() const { return alpha_init > 0.0 ? alpha_init : (norm == Norm::linf ? 10.0 : 1.0); }
    /// alpha_final, or initial_alpha() / 100 when it is 0.
    double final_alpha() const { return alpha_final > 0.0 ? alpha_final : initial_alpha() / 100.0; }

    void validate() const
    {
        const std::string who = "FmnOptions";
        check::positive(who, "steps", steps);
        check::positive(who, "batch", batch);
        if (!(alpha_init >= 0.0) || !std::isfinite(alpha_init))
            throw invalid_argument("FmnOptions: alpha_init must be finite and >= 0 (0 = the norm's default), got " +
                                   std::to_string(alpha_init));
        if (!(alpha_final >= 0.0) || !std::isfinite(alpha_final))
            throw invalid_argument("FmnOptions: alpha_final must be finite and >= 0 (0 = alpha_init / 100), got " +
                                   std::to_string(alpha_final));
        check::in_range(who, "gamma_init", gamma_init, 0.0, 1.0, check::Interval::closed_open);
        check::in_range(who, "gamma_final", gamma_final, 0.0, 1.0, check::Interval::closed_open);
    }
};

namespace detail {

/// Per-sample state of FMN (norms in units of the input range).
struct FmnTrack {
    double epsilon = std::numeric_limits<double>::infinity();  ///< current radius
    double best = std::numeric_limits<double>::infinity();     ///< norm of the best adversarial so far
    double worst = 0.0;                                        ///< largest norm the bounds allow around x0
    bool found() const { return std::isfinite(best); }
};

/// Buffers reused across blocks and steps.
template <class T>
struct FmnWork {
    matrix<T> rows;
    LogitPass<T> pass;  ///< margin loss (value), adversarial flags and dL/dx of the block
    std::vector<double> delta;
};

/// Cosine annealing from `from` (k = 0) towards `to` (k = steps).
inline double fmn_anneal(double from, double to, std::size_t k, std::size_t steps)
{
    const double pi = std::acos(-1.0);
    const double c = (1.0 + std::cos(pi * static_cast<double>(k) / static_cast<double>(steps))) / 2.0;
    return to + (from - to) * c;
}

/// || max(x0 - lo, hi - x0) || / (hi - lo): no point inside the bounds is farther from x0.
template <class T>
inline double fmn_worst_norm(const T* x0, std::size_t d, Norm norm, const Bounds& b)
{
    double s = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
        const double v = static_cast<double>(x0[j]);
        const double far = std::max(v - b.lo, b.hi - v);
        s = norm == Norm::linf ? std::max(s, far) : s + far * far;
    }
    return (norm == Norm::linf ? s : std::sqrt(s)) / (b.hi - b.lo);
}

/// The block's current points through logit_pass with the margin loss: w.pass.value,
/// w.pass.adversarial; with_gradient adds dL/dx in w.pass.dx.
template <class T>
inline void fmn_evaluate(const DenseNetwork<T>& net, const matrix<T>& cur, const std::vector<std::size_t>& block,
                         const label_vector& y, bool with_gradient, FmnWork<T>& w)
{
    const std::size_t m = block.size(), d = cur.shape()[1];
    resize_if_needed(w.rows, m, d);
    for (std::size_t r = 0; r < m; ++r)
        std::copy(cur.data() + block[r] * d, cur.data() + (block[r] + 1) * d, w.rows.data() + r * d);
    logit_pass(
        net, w.rows.data(), m, LogitLoss::margin, [&](std::size_t r) { return y(block[r]); },
        [](std::size_t) { return std::size_t{0}; }, with_gradient, w.pass);
}

/// Records the current point as the best adversarial when it is one and smaller; returns
/// its norm.
template <class T>
inline double fmn_record(const T* xc, const T* x0, std::size_t d, bool adversarial, const FmnOptions& o, FmnTrack& t,
                         T* best_row)
{
    const double norm = perturbation_norm(xc, x0, d, o.norm, o.bounds);
    if (adversarial && norm < t.best) {
        t.best = norm;
        std::copy(xc, xc + d, best_row);
    }
    return norm;
}

/// The paper's radius update (after fmn_record), capped at the worst norm.
inline double fmn_next_epsilon(const FmnTrack& t, bool adversarial, double norm, double distance, double gamma)
{
    double e;
    if (adversarial) {
        e = std::min(t.epsilon * (1.0 - gamma), t.best);
    } else if (t.found()) {
        e = t.epsilon * (1.0 + gamma);
    } else {
        e = norm + distance;  // linear estimate of the distance to the boundary
        if (std::isfinite(t.epsilon)) e = std::max(e, t.epsilon * (1.0 + gamma));  // safeguard (see top)
    }
    return std::min(e, t.worst);
}

/// delta += alpha (hi - lo) g / ||g||_2, projected onto the eps-ball, x0 + delta clipped.
template <class T>
inline void fmn_step(const T* x0, T* xc, const T* g, std::size_t d, double g2, double alpha, double epsilon,
                     const FmnOptions& o, std::vector<double>& delta)
{
    const double range = o.bounds.hi - o.bounds.lo;
    const double scale = alpha * range / g2, radius = epsilon * range;
    delta.resize(d);
    double sq = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
        double v = static_cast<double>(xc[j]) - static_cast<double>(x0[j]) + scale * static_cast<double>(g[j]);
        if (o.norm == Norm::linf) v = std::min(radius, std::max(-radius, v));
        delta[j] = v;
        sq += v * v;
    }
    const double shrink = o.norm == Norm::l2 && std::sqrt(sq) > radius ? radius / std::sqrt(sq) : 1.0;
    const T lo = static_cast<T>(o.bounds.lo), hi = static_cast<T>(o.bounds.hi);
    for (std::size_t j = 0; j < d; ++j) {
        const T v = static_cast<T>(static_cast<double>(x0[j]) + shrink * delta[j]);
        xc[j] = std::min(hi, std::max(lo, v));
    }
}

/// One FMN step (or, at k == steps, the final evaluation) for every active sample;
/// returns the samples that go on.
template <class T>
inline std::vector<std::size_t> fmn_iteration(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                              const FmnOptions& o, std::size_t k,
                                              const std::vector<std::size_t>& active, matrix<T>& cur,
                                              std::vector<FmnTrack>& track, AttackResult<T>& result, FmnWork<T>& w)
{
    const std::size_t d = x.shape()[1];
    const bool last = k == o.steps;
    const double alpha = fmn_anneal(o.initial_alpha(), o.final_alpha(), k, o.steps);
    const double gamma = fmn_anneal(o.gamma_init, o.gamma_final, k, o.steps);
    const double range = o.bounds.hi - o.bounds.lo;
    std::vector<std::size_t> still;
    for (std::size_t b0 = 0; b0 < active.size(); b0 += o.batch) {
        const auto first = active.begin() + static_cast<std::ptrdiff_t>(b0);
        const std::size_t m = std::min(o.batch, active.size() - b0);
        const std::vector<std::size_t> block(first, first + static_cast<std::ptrdiff_t>(m));
        fmn_evaluate(net, cur, block, y, !last, w);
        for (std::size_t r = 0; r < block.size(); ++r) {
            const std::size_t i = block[r];
            const T* x0 = x.data() + i * d;
            T* xc = cur.data() + i * d;
            const bool adv = w.pass.adversarial[r] != 0;
            const double norm = fmn_record(xc, x0, d, adv, o, track[i], result.adversarial.data() + i * d);
            if (last) continue;
            result.samples[i].iterations = k + 1;
            const T* g = w.pass.dx.data() + r * d;
            double g1 = 0.0, g2 = 0.0;
            for (std::size_t j = 0; j < d; ++j) {
                const double v = static_cast<double>(g[j]);
                g1 += std::abs(v);
                g2 += v * v;
            }
            g2 = std::sqrt(g2);
            if (!adv && g2 == 0.0) continue;  // cannot move any more: the sample stops
            const double dual = o.norm == Norm::linf ? g1 : g2;
            const double distance =
                dual > 0.0 ? std::abs(w.pass.value[r]) / (dual * range) : std::numeric_limits<double>::infinity();
            track[i].epsilon = fmn_next_epsilon(track[i], adv, norm, distance, gamma);
            if (g2 > 0.0)
                fmn_step(x0, xc, g, d, g2, alpha, track[i].epsilon, o, w.delta);
            else
                fmn_step(x0, xc, g, d, 1.0, 0.0, track[i].epsilon, o, w.delta);  // projection only
            still.push_back(i);
        }
    }
    return still;
}

}  // namespace detail

/// FMN on every row of x (labels y); see the top of this header. The result is named
/// "fmn-linf" or "fmn-l2".
template <class T>
inline AttackResult<T> fmn(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                           const FmnOptions& options = {})
{
    options.validate();
    detail::check_attack_inputs(net, x, y, options.bounds, "fmn");
    AttackResult<T> result = detail::start_result(net, x, y, "fmn-" + to_string(options.norm));
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    std::vector<detail::FmnTrack> track(n);
    std::vector<std::size_t> active;
    for (std::size_t i = 0; i < n; ++i) {
        if (!result.samples[i].attempted) continue;
        track[i].worst = detail::fmn_worst_norm(x.data() + i * d, d, options.norm, options.bounds);
        active.push_back(i);
    }
    matrix<T> cur = x;  // current iterates x0 + delta
    detail::FmnWork<T> work;
    for (std::size_t k = 0; k <= options.steps && !active.empty(); ++k)
        active = detail::fmn_iteration(net, x, y, options, k, active, cur, track, result, work);
    for (std::size_t i = 0; i < n; ++i) {
        auto& s = result.samples[i];
        if (!s.attempted) continue;
        s.success = track[i].found();
        s.epsilon = s.success ? track[i].best : std::numeric_limits<double>::infinity();
    }
    detail::verify_result(net, x, result, options.bounds);
    return result;
}

}  // namespace sleepnet
