#pragma once
// Robustness audit: the evaluation checklist of Carlini et al. 2019 ("On Evaluating
// Adversarial Robustness") as code. It runs the strong attacks of this folder on one
// network and gives a verdict per check, the robust-accuracy curves of every attack and
// the per-input worst case.
//
//   sleepnet::AuditOptions o;                        // eps 0.1, APGD defaults, L2 curve too
//   auto r = sleepnet::audit(net, x, y, &control, o, engine);   // surrogate may be nullptr
//   for (const auto& c : r.checks) ...               // name, pass, value, reference, detail
//   if (r.masking_suspected()) ...
//
// The checks (value and reference of each AuditCheck; RA = robust accuracy over all
// inputs, misclassified inputs counting as broken; tol = AuditOptions::tolerance):
//  1 "iterative >= single-step": value = RA of APGD (o.attack, fixed budget `epsilon`)
//    minus the smaller RA at `epsilon` of FGSM (minimal eps on its grid, cross-entropy and
//    network loss), reference = tol; passes when value <= tol AND APGD's median minimal
//    eps (bisection, `search`) <= the smaller FGSM median + search.tolerance. Fails: a
//    single step beats the iterative attack (a broken attack or masked gradients).
//  2 "robust accuracy reaches 0": value = the larger of the worst-case RA at the largest
//    eps of the grid and APGD's RA at eps 1 (the whole box); passes when value <= tol.
//  3 "black-box not stronger than white-box": value = fraction of the inputs Square (at
//    `epsilon`, square_queries) breaks and the white-box attacks at `epsilon` (APGD and
//    the convergence runs of 5, per input) do not; passes when value <= tol.
//  4 "transfer not stronger than white-box" (only with a surrogate): the same with
//    transfer_attack from the surrogate at `epsilon` (o.attack).
//  5 "converged": value = APGD's RA at `epsilon` minus the RA of the per-input union of
//    that run, a run with 4x steps and 5 random restarts (o.attack's losses) and a run of
//    targeted DLR with 4x steps (networks with >= 4 classes), both on the inputs the first
//    run left unbroken; passes when value <= tol.
//  6 "random noise far weaker": noise_draws random sign vectors of L-inf norm `epsilon`
//    per input (clipped; broken when any draw flips it); value = noise RA, reference =
//    APGD RA + 0.5 (clean accuracy - APGD RA); passes when value >= reference.
//  7 "margin loss agrees with cross-entropy": value = RA of APGD with cross-entropy alone
//    minus RA with the margin loss alone (both at `epsilon`); passes when value <= tol.
//    Fails: the CE gradient is uninformative: a saturated softmax hides it (the
//    defensive-distillation case) or a flat one spreads it over every class (small
//    logits, e.g. networks trained with MSE); detail gives the median top softmax
//    probability. o.attack's own margin run may still see through it.
// masking_suspected() = any of 1, 2, 3, 4 failed, or 7 when the softmax is saturated
// (median top probability >= 0.99) or o.attack has no margin-type loss (AuditCheck::masking). A failure of 5 says o.attack is not converged (report the
// stronger figure: converged()), of 6 that the budget or the attack is weak, of 7 with a
// margin-type loss in o.attack that cross-entropy alone understates (CE-only attacks and
// FGSM-CE mislead), none of them that gradients are masked.
//
// Curves: robust_accuracy_curve over `epsilons` of the L-inf minimal-budget attacks
// ("apgd", "fmn", "fgsm-ce", "fgsm-network") and of their per-input worst case
// ("worst-case", also returned as AuditReport::worst); with l2, over `l2_norms` of
// APGD-L2 (bisection in (0, l2_max], bracket search.tolerance * l2_max) and FMN-L2 and
// their worst case.
//
// Randomness: at the start, one draw of the caller's engine per random part, in a fixed
// order (APGD minimal, APGD at 1, APGD at eps, Square, transfer, the two convergence
// runs, noise, margin, CE, APGD-L2), seeds an engine per part; the other parts are
// deterministic. Same seed, same report (with or without a surrogate or the L2 part).
//
// Callbacks (core/callbacks.hpp): on_progress(const AuditProgress&) before each stage
// (name, index, count); on_progress(const PgdProgress&) inside the APGD runs. Returning
// true stops the audit: the report holds the checks and curves completed before
// (AuditReport::stopped is set; a stage interrupted midway is dropped). A callback with
// one template on_progress(const P&) receives both kinds.
//
// Square needs an image layout: rows whose length is a perfect square are square
// one-channel images, any other row is treated as a 1 x d image (windows of one value).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../core/callbacks.hpp"
#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "../nn/dense_network.hpp"
#include "../nn/train.hpp"
#include "common.hpp"
#include "ensemble.hpp"
#include "fgsm.hpp"
#include "fmn.hpp"
#include "pgd.hpp"
#include "square.hpp"

namespace sleepnet {

/// The names of the checks, as AuditCheck::name.
namespace audit_checks {
inline constexpr const char* iterative = "iterative >= single-step";
inline constexpr const char* reaches_zero = "robust accuracy reaches 0";
inline constexpr const char* black_box = "black-box not stronger than white-box";
inline constexpr const char* transfer = "transfer not stronger than white-box";
inline constexpr const char* converged = "converged";
inline constexpr const char* noise = "random noise far weaker";
inline constexpr const char* margin = "margin loss agrees with cross-entropy";
}  // namespace audit_checks

namespace detail {

/// Runs f and prefixes the message of the invalid_argument it throws with `prefix`.
template <class F>
inline void audit_prefixed(const std::string& prefix, F&& f)
{
    try {
        f();
    } catch (const invalid_argument& e) {
        throw invalid_argument(prefix + e.what());
    }
}

/// Throws "AuditOptions: <field> ..." unless v is finite, > 0 and strictly increasing.
inline void audit_check_grid(const std::vector<double>& v, const char* field)
{
    if (v.empty()) throw invalid_argument(std::string("AuditOptions: ") + field + " must not be empty");
    for (std::size_t i = 0; i < v.size(); ++i) {
        check::finite_positive("AuditOptions", field, v[i], "at position " + std::to_string(i));
        if (i > 0 && !(v[i] > v[i - 1]))
            throw invalid_argument(std::string("AuditOptions: ") + field + " must be strictly increasing, got " +
                                   std::to_string(v[i - 1]) + " then " + std::to_string(v[i]));
    }
}

}  // namespace detail

struct AuditOptions {
    std::vector<double> epsilons{0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3};  ///< L-inf grid of the curves
    double epsilon = 0.1;                                                   ///< the budget the per-budget checks use
    PgdOptions attack;            ///< the white-box attack (L-inf; APGD defaults)
    MinimalEpsilonSearch search;  ///< bisection of the minimal-eps runs
    std::size_t square_queries = 1000;
    std::size_t noise_draws = 10;  ///< random sign vectors per input at epsilon
    double tolerance = 0.01;       ///< how much two robust accuracies may differ and still count as equal
    bool l2 = true;                ///< also the L2 curve (FMN-L2 and APGD-L2 minimal norms)
    double l2_max = 10.0;          ///< APGD-L2 bisection in (0, l2_max]
    std::vector<double> l2_norms{0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0};  ///< L2 grid of the curves

    /// Throws invalid_argument naming the field. (attack's losses are checked against
    /// the network's classes by audit().)
    void validate() const
    {
        const std::string who = "AuditOptions";
        detail::audit_check_grid(epsilons, "epsilons");
        check::finite_positive(who, "epsilon", epsilon);
        if (attack.norm != Norm::linf)
            throw invalid_argument(who + ": attack.norm must be linf (the audit runs its L2 attacks itself)");
        detail::audit_prefixed("AuditOptions: attack: ",
                               [&] { attack.validate(std::numeric_limits<std::size_t>::max()); });
        detail::audit_prefixed("AuditOptions: search: ", [&] { search.validate(); });
        check::positive(who, "square_queries", square_queries);
        check::positive(who, "noise_draws", noise_draws);
        check::in_range(who, "tolerance", tolerance, 0.0, 1.0, check::Interval::closed_open);
        if (!l2) return;
        check::finite_positive(who, "l2_max", l2_max);
        detail::audit_check_grid(l2_norms, "l2_norms");
    }
};

/// One line of the checklist: what was measured (value), what it is compared with
/// (reference; the rule is in the header comment and in detail), the verdict.
struct AuditCheck {
    std::string name;
    bool pass = false;
    double value = 0.0;
    double reference = 0.0;
    std::string detail;
    bool masking = true;  ///< a failure indicates masked gradients (else: a weak or unconverged evaluation)
};

/// What on_progress(const AuditProgress&) callbacks see before each stage.
struct AuditProgress {
    std::string stage;       ///< e.g. "apgd-linf minimal", "square"
    std::size_t index = 0;   ///< 0-based
    std::size_t stages = 0;  ///< stages of this audit
};

template <class T>
struct AuditReport {
    std::vector<AuditCheck> checks;  ///< the checklist, one verdict per line, in order 1..7
    std::vector<double> epsilons, l2_norms;
    /// robust accuracy per budget of each attack and of the worst case
    std::vector<std::pair<std::string, std::vector<double>>> linf_curves, l2_curves;
    AttackResult<T> worst;     ///< per-input worst case over the L-inf minimal-budget attacks
    AttackResult<T> worst_l2;  ///< the same over the L2 ones (empty without l2)
    double clean_accuracy = 0.0;
    /// Robust accuracy at `epsilon` under every fixed-budget attack of the audit, per input:
    /// APGD, the convergence runs, Square and transfer (the figure to report); NaN until made.
    double robust_accuracy = std::numeric_limits<double>::quiet_NaN();
    bool stopped = false;  ///< a callback stopped the audit (the report is partial)

    /// The check of that name, nullptr when it was not made.
    const AuditCheck* check(const std::string& name) const
    {
        for (const auto& c : checks)
            if (c.name == name) return &c;
        return nullptr;
    }
    /// Any failed check whose failure indicates masked gradients (1-4, and 7 when the
    /// white-box attack has no margin-type loss).
    bool masking_suspected() const
    {
        for (const auto& c : checks)
            if (!c.pass && c.masking) return true;
        return false;
    }
    /// Check 5 passed (or was not made): more steps, restarts and targeted DLR did not move
    /// the robust accuracy of AuditOptions::attack by more than the tolerance.
    bool converged() const
    {
        const AuditCheck* c = check(audit_checks::converged);
        return c == nullptr || c->pass;
    }
};

namespace detail {

inline std::string audit_fmt(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

/// Fraction of all inputs `other` breaks and `white` does not (same inputs and network).
template <class T>
inline double audit_only_broken_by(const AttackResult<T>& other, const AttackResult<T>& white)
{
    std::size_t k = 0;
    for (std::size_t i = 0; i < other.samples.size(); ++i) k += other.samples[i].success && !white.samples[i].success;
    return other.samples.empty() ? 0.0 : static_cast<double>(k) / static_cast<double>(other.samples.size());
}

/// a <= b, where two NaNs (no input attempted) count as equal.
inline bool audit_le(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a <= b; }

/// Check 1; `apgd` is the fixed-budget run at epsilon, `minimal` the bisection.
template <class T>
inline AuditCheck audit_iterative(const AttackResult<T>& apgd, const AttackResult<T>& minimal,
                                  const AttackResult<T>& ce, const AttackResult<T>& network, const AuditOptions& o)
{
    const double e = o.epsilon, ra = apgd.robust_accuracy();
    const double ra_f = std::min(robust_accuracy_at(ce, e), robust_accuracy_at(network, e));
    const double med = minimal.median_epsilon(), med_f = std::min(ce.median_epsilon(), network.median_epsilon());
    AuditCheck c{audit_checks::iterative, false, ra - ra_f, o.tolerance, ""};
    const bool median_ok = audit_le(med, med_f + o.search.tolerance);
    c.pass = c.value <= o.tolerance && median_ok;
    c.detail = "robust accuracy at eps " + audit_fmt(e) + ": APGD " + audit_fmt(ra) + ", FGSM " +
               audit_fmt(robust_accuracy_at(ce, e)) + " (CE) / " + audit_fmt(robust_accuracy_at(network, e)) +
               " (network loss); median minimal eps: APGD " + audit_fmt(med) + ", FGSM " +
               audit_fmt(ce.median_epsilon()) + " / " + audit_fmt(network.median_epsilon()) +
               (median_ok ? "" : " (APGD's is larger)");
    return c;
}

template <class T>
inline AuditCheck audit_reaches_zero(const AttackResult<T>& worst, const AttackResult<T>& whole_box,
                                     const AuditOptions& o)
{
    const double at_grid = robust_accuracy_at(worst, o.epsilons.back()), at_box = whole_box.robust_accuracy();
    AuditCheck c{audit_checks::reaches_zero, false, std::max(at_grid, at_box), o.tolerance, ""};
    c.pass = c.value <= o.tolerance;
    c.detail = "worst-case robust accuracy at eps " + audit_fmt(o.epsilons.back()) + ": " + audit_fmt(at_grid) +
               "; APGD at eps 1 (the whole box): " + audit_fmt(at_box);
    return c;
}

/// Checks 3 and 4: the share of inputs `other` breaks that APGD at epsilon leaves unbroken.
template <class T>
inline AuditCheck audit_not_stronger(const char* name, const char* who, const AttackResult<T>& other,
                                     const AttackResult<T>& white, const AuditOptions& o)
{
    AuditCheck c{name, false, audit_only_broken_by(other, white), o.tolerance, ""};
    c.pass = c.value <= o.tolerance;
    c.detail = std::string(who) + " at eps " + audit_fmt(o.epsilon) + ": robust accuracy " +
               audit_fmt(other.robust_accuracy()) + " (APGD " + audit_fmt(white.robust_accuracy()) + "); breaks " +
               audit_fmt(c.value) + " of the inputs APGD does not";
    return c;
}

template <class T>
inline AuditCheck audit_converged(const AttackResult<T>& base, const AttackResult<T>& strong, const std::string& runs,
                                  const AuditOptions& o)
{
    AuditCheck c{audit_checks::converged, false, base.robust_accuracy() - strong.robust_accuracy(), o.tolerance, ""};
    c.pass = c.value <= o.tolerance;
    c.masking = false;  // an unconverged attack, not a property of the network
    c.detail = "robust accuracy at eps " + audit_fmt(o.epsilon) + ": APGD " + audit_fmt(base.robust_accuracy()) +
               ", with " + runs + " added " + audit_fmt(strong.robust_accuracy());
    return c;
}

inline AuditCheck audit_noise_check(double noise, double apgd, double clean, const AuditOptions& o)
{
    AuditCheck c{audit_checks::noise, false, noise, apgd + 0.5 * (clean - apgd), ""};
    c.pass = c.value >= c.reference - 1e-12;
    c.masking = false;  // a large budget or a weak attack, not masked gradients
    c.detail = std::to_string(o.noise_draws) + " random sign vectors of L-inf norm " + audit_fmt(o.epsilon) +
               " per input: robust accuracy " + audit_fmt(noise) + "; APGD " + audit_fmt(apgd) + ", clean " +
               audit_fmt(clean) + "; needs >= APGD + (clean - APGD) / 2";
    return c;
}

/// Median over the correctly classified inputs of the largest softmax probability: near 1
/// the softmax is saturated (CE's gradient vanishes), near 1 / classes it is flat (CE's
/// gradient spreads over every class instead of the closest rival).
template <class T>
inline double audit_top_probability(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y)
{
    const matrix<T> z = net.logits(x);
    const std::size_t c = net.output_size();
    std::vector<double> p;
    for (std::size_t i = 0; i < y.size(); ++i) {
        std::size_t top = 0;
        for (std::size_t k = 1; k < c; ++k)
            if (z(i, k) > z(i, top)) top = k;
        if (top != y(i)) continue;
        double s = 0.0;
        for (std::size_t k = 0; k < c; ++k)
            s += std::exp(static_cast<double>(z(i, k)) - static_cast<double>(z(i, top)));
        p.push_back(1.0 / s);
    }
    return median(std::move(p));
}

template <class T>
inline AuditCheck audit_margin_check(const AttackResult<T>& margin, const AttackResult<T>& ce, double top_probability,
                                     const AuditOptions& o)
{
    AuditCheck c{audit_checks::margin, false, ce.robust_accuracy() - margin.robust_accuracy(), o.tolerance, ""};
    c.pass = c.value <= o.tolerance;
    // a saturated softmax hides the CE gradient (masking: defensive distillation); a flat
    // one only makes CE weak, which an attack with a margin-type loss does not depend on
    c.masking = top_probability >= 0.99 || std::none_of(o.attack.losses.begin(), o.attack.losses.end(),
                                                        [](LogitLoss l) { return l != LogitLoss::cross_entropy; });
    const std::string why = top_probability >= 0.99  ? ": saturated, the CE gradient vanishes"
                            : top_probability <= 0.5 ? ": flat, the CE gradient is spread over every class"
                                                     : "";
    c.detail = "APGD at eps " + audit_fmt(o.epsilon) + ", robust accuracy with the margin loss alone " +
               audit_fmt(margin.robust_accuracy()) + ", cross-entropy alone " + audit_fmt(ce.robust_accuracy()) +
               "; median top softmax probability " + audit_fmt(top_probability) + why;
    return c;
}

/// Random sign perturbations of L-inf norm eps (in units of the range), clipped: `draws`
/// per correctly classified input, broken at the first draw that flips it. Draw k of row
/// i comes from rng::stream(seed, i, k).
template <class T>
inline AttackResult<T> audit_noise(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y, double eps,
                                   std::size_t draws, const Bounds& b, std::uint64_t seed)
{
    AttackResult<T> r = start_result(net, x, y, "noise-sign");
    const std::size_t d = x.shape()[1];
    const T step = static_cast<T>(eps * (b.hi - b.lo)), lo = static_cast<T>(b.lo), hi = static_cast<T>(b.hi);
    std::vector<std::size_t> left = attempted_rows(r);
    for (std::size_t k = 0; k < draws && !left.empty(); ++k) {
        matrix<T> cand = matrix<T>::from_shape({left.size(), d});
        for (std::size_t q = 0; q < left.size(); ++q) {
            default_engine e = rng::stream(seed, left[q], k);
            const T* x0 = x.data() + left[q] * d;
            for (std::size_t j = 0; j < d; ++j)
                cand(q, j) = std::min(hi, std::max(lo, x0[j] + ((rng::bits64(e) >> 63) != 0 ? step : -step)));
        }
        const label_vector p = net.predict(cand);
        std::vector<std::size_t> next;
        for (std::size_t q = 0; q < left.size(); ++q) {
            auto& s = r.samples[left[q]];
            ++s.iterations;
            if (p(q) == s.label) {
                next.push_back(left[q]);
                continue;
            }
            s.success = true;
            std::copy(cand.data() + q * d, cand.data() + (q + 1) * d, r.adversarial.data() + left[q] * d);
        }
        left = std::move(next);
    }
    verify_result(net, x, r, b);
    return r;
}

/// The labels of the listed rows.
inline label_vector audit_rows(const label_vector& y, const std::vector<std::size_t>& rows)
{
    label_vector out = label_vector::from_shape({rows.size()});
    for (std::size_t k = 0; k < rows.size(); ++k) out(k) = y(rows[k]);
    return out;
}

/// Adds the successes of `sub` (an attack on the listed rows of the inputs of `into`) to `into`.
template <class T>
inline void audit_merge(AttackResult<T>& into, const AttackResult<T>& sub, const std::vector<std::size_t>& rows)
{
    const std::size_t d = into.adversarial.shape()[1];
    for (std::size_t k = 0; k < rows.size(); ++k) {
        AttackSample& s = into.samples[rows[k]];
        const AttackSample& t = sub.samples[k];
        s.iterations += t.iterations;
        if (s.success || !t.success) continue;
        s.success = true;
        s.adversarial_prediction = t.adversarial_prediction;
        s.distance = t.distance;
        std::copy(sub.adversarial.data() + k * d, sub.adversarial.data() + (k + 1) * d,
                  into.adversarial.data() + rows[k] * d);
    }
}

/// Square's image layout for rows of d values: square one-channel images when d is a
/// perfect square, else 1 x d.
inline SquareOptions audit_square_options(const AuditOptions& o, std::size_t d)
{
    SquareOptions s;
    s.queries = o.square_queries;
    s.bounds = o.attack.bounds;
    auto side = static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(d))));
    if (side * side != d) {
        s.height = 1;
        s.width = d;
    }
    return s;
}

/// Forwards the APGD runs' progress to the audit's callbacks and records a stop request.
template <class Hooks>
struct AuditForward {
    Hooks* hooks;
    bool* stop;
    bool on_progress(const PgdProgress& p)
    {
        *stop = call_on_progress(*hooks, p) || *stop;
        return *stop;
    }
};

/// The seeds of the random parts, in the order they are drawn.
enum AuditSeed : std::size_t {
    s_minimal,
    s_box,
    s_eps,
    s_square,
    s_transfer,
    s_strong,
    s_targeted,
    s_noise,
    s_margin,
    s_ce,
    s_l2,
    s_count
};

/// One audit: the stages in order, each a short member; results kept for the checks.
template <class T, class Hooks>
class Auditor {
public:
    Auditor(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y, const DenseNetwork<T>* surrogate,
            const AuditOptions& o, const std::array<std::uint64_t, s_count>& seeds, Hooks& hooks)
        : net_(net), x_(x), y_(y), surrogate_(surrogate), o_(o), seeds_(seeds), hooks_(hooks), forward_{&hooks_, &stop_}
    {
        stages_ = 11 + (surrogate ? 1 : 0) + (o.l2 ? 2 : 0);
    }

    AuditReport<T> run()
    {
        r_.epsilons = o_.epsilons;
        if (o_.l2) r_.l2_norms = o_.l2_norms;
        const label_vector p = net_.predict(x_);
        std::size_t correct = 0;
        for (std::size_t i = 0; i < y_.size(); ++i) correct += p(i) == y_(i);
        r_.clean_accuracy = static_cast<double>(correct) / static_cast<double>(y_.size());
        const bool done =
            linf_minimal() && zero_and_black_box() && convergence_and_losses() && (!o_.l2 || l2_minimal());
        r_.stopped = !done;
        return std::move(r_);
    }

private:
    /// Announces a stage, runs f into out; false when a callback stopped the audit.
    template <class F>
    bool stage(const char* name, AttackResult<T>& out, F&& f)
    {
        if (stop_) return false;
        stop_ = call_on_progress(hooks_, AuditProgress{name, index_++, stages_});
        if (stop_) return false;
        out = f();
        return !stop_;
    }

    default_engine engine(AuditSeed s) const { return default_engine(seeds_[s]); }

    AttackResult<T> apgd_at(double eps, const PgdOptions& po, AuditSeed s)
    {
        default_engine e = engine(s);
        return pgd(net_, x_, y_, eps, po, e, forward_);
    }

    bool linf_minimal()
    {
        auto fgsm_with = [&](AttackLoss loss) {
            FgsmOptions f;
            f.loss = loss;
            f.bounds = o_.attack.bounds;
            return fgsm(net_, x_, y_, f);
        };
        if (!stage("apgd-linf minimal", apgd_min_, [&] {
                default_engine e = engine(s_minimal);
                return pgd_minimal(net_, x_, y_, o_.attack, o_.search, e, forward_);
            }))
            return false;
        if (!stage("apgd-linf at eps", apgd_eps_, [&] { return apgd_at(o_.epsilon, o_.attack, s_eps); })) return false;
        if (!stage("fgsm-ce", fgsm_ce_, [&] { return fgsm_with(AttackLoss::cross_entropy); })) return false;
        if (!stage("fgsm-network", fgsm_net_, [&] { return fgsm_with(AttackLoss::network); })) return false;
        r_.checks.push_back(audit_iterative(apgd_eps_, apgd_min_, fgsm_ce_, fgsm_net_, o_));
        AttackResult<T> fmn_linf;
        if (!stage("fmn-linf", fmn_linf, [&] {
                FmnOptions f;
                f.bounds = o_.attack.bounds;
                return fmn(net_, x_, y_, f);
            }))
            return false;
        r_.worst = worst_case<T>({apgd_min_, fmn_linf, fgsm_ce_, fgsm_net_});
        auto curve = [&](const AttackResult<T>& a) { return robust_accuracy_curve(a, o_.epsilons); };
        r_.linf_curves = {{"apgd", curve(apgd_min_)},
                          {"fmn", curve(fmn_linf)},
                          {"fgsm-ce", curve(fgsm_ce_)},
                          {"fgsm-network", curve(fgsm_net_)},
                          {"worst-case", curve(r_.worst)}};
        return true;
    }

    bool zero_and_black_box()
    {
        AttackResult<T> box, square;
        if (!stage("apgd-linf converged", strong_, [&] { return strong_runs(runs_); })) return false;
        if (!stage("apgd-linf at eps 1", box, [&] { return apgd_at(1.0, o_.attack, s_box); })) return false;
        r_.checks.push_back(audit_reaches_zero(r_.worst, box, o_));
        if (!stage("square", square, [&] {
                default_engine e = engine(s_square);
                return square_attack(net_, x_, y_, o_.epsilon, audit_square_options(o_, x_.shape()[1]), e);
            }))
            return false;
        r_.checks.push_back(audit_not_stronger(audit_checks::black_box, "Square", square, strong_, o_));
        r_.robust_accuracy = worst_case<T>({strong_, square}).robust_accuracy();
        if (!surrogate_) return true;
        AttackResult<T> transfer;
        if (!stage("transfer", transfer, [&] {
                default_engine e = engine(s_transfer);
                return transfer_attack(*surrogate_, net_, x_, y_, o_.epsilon, o_.attack, e);
            }))
            return false;
        r_.checks.push_back(
            audit_not_stronger(audit_checks::transfer, "transfer from the surrogate", transfer, strong_, o_));
        r_.robust_accuracy = worst_case<T>({strong_, square, transfer}).robust_accuracy();
        return true;
    }

    /// APGD at epsilon with 4x steps and 5 random restarts, plus targeted DLR (4x steps)
    /// when the network has >= 4 classes, on the inputs the first APGD run left unbroken;
    /// the per-input union with that run.
    AttackResult<T> strong_runs(std::string& runs)
    {
        PgdOptions po = o_.attack;
        po.steps *= 4;
        po.restarts = 5;
        po.random_start = true;
        const bool targeted = net_.output_size() >= min_classes(LogitLoss::targeted_dlr);
        runs = std::to_string(po.steps) + " steps x 5 random restarts";
        if (targeted)
            runs += " and targeted DLR (" + std::to_string(std::min(po.targets, net_.output_size() - 1)) + " targets)";
        AttackResult<T> out = apgd_eps_;
        std::vector<std::size_t> rows;
        for (const auto& s : apgd_eps_.samples)
            if (s.attempted && !s.success) rows.push_back(s.index);
        if (rows.empty()) return out;
        matrix<T> xs;
        gather_rows(x_, rows, 0, rows.size(), xs);
        const label_vector ys = audit_rows(y_, rows);
        default_engine e = engine(s_strong);
        audit_merge(out, pgd(net_, xs, ys, o_.epsilon, po, e, forward_), rows);
        if (!targeted || stop_) return out;
        po.losses = {LogitLoss::targeted_dlr};
        po.restarts = 1;
        po.random_start = o_.attack.random_start;
        default_engine et = engine(s_targeted);
        audit_merge(out, pgd(net_, xs, ys, o_.epsilon, po, et, forward_), rows);
        return out;
    }

    bool convergence_and_losses()
    {
        AttackResult<T> noise, margin, ce;
        r_.checks.push_back(audit_converged(apgd_eps_, strong_, runs_, o_));
        if (!stage("noise", noise, [&] {
                return audit_noise(net_, x_, y_, o_.epsilon, o_.noise_draws, o_.attack.bounds, seeds_[s_noise]);
            }))
            return false;
        r_.checks.push_back(
            audit_noise_check(noise.robust_accuracy(), apgd_eps_.robust_accuracy(), r_.clean_accuracy, o_));
        PgdOptions po = o_.attack;
        po.losses = {LogitLoss::margin};
        if (!stage("apgd-linf margin", margin, [&] { return apgd_at(o_.epsilon, po, s_margin); })) return false;
        po.losses = {LogitLoss::cross_entropy};
        if (!stage("apgd-linf ce", ce, [&] { return apgd_at(o_.epsilon, po, s_ce); })) return false;
        r_.checks.push_back(audit_margin_check(margin, ce, audit_top_probability(net_, x_, y_), o_));
        return true;
    }

    bool l2_minimal()
    {
        AttackResult<T> apgd, fmn_l2;
        if (!stage("apgd-l2 minimal", apgd, [&] {
                PgdOptions po = o_.attack;
                po.norm = Norm::l2;
                MinimalEpsilonSearch ms{o_.l2_max, o_.search.tolerance * o_.l2_max};
                default_engine e = engine(s_l2);
                return pgd_minimal(net_, x_, y_, po, ms, e, forward_);
            }))
            return false;
        if (!stage("fmn-l2", fmn_l2, [&] {
                FmnOptions f;
                f.norm = Norm::l2;
                f.bounds = o_.attack.bounds;
                return fmn(net_, x_, y_, f);
            }))
            return false;
        r_.worst_l2 = worst_case<T>({apgd, fmn_l2});
        auto curve = [&](const AttackResult<T>& a) { return robust_accuracy_curve(a, o_.l2_norms); };
        r_.l2_curves = {{"apgd", curve(apgd)}, {"fmn", curve(fmn_l2)}, {"worst-case", curve(r_.worst_l2)}};
        return true;
    }

    const DenseNetwork<T>& net_;
    const matrix<T>& x_;
    const label_vector& y_;
    const DenseNetwork<T>* surrogate_;
    const AuditOptions& o_;
    std::array<std::uint64_t, s_count> seeds_;
    Hooks& hooks_;
    bool stop_ = false;
    AuditForward<Hooks> forward_;
    std::size_t index_ = 0, stages_ = 0;
    AuditReport<T> r_;
    AttackResult<T> apgd_min_, fgsm_ce_, fgsm_net_, apgd_eps_;
    AttackResult<T> strong_;  ///< apgd_eps_ united with the convergence runs: the white-box reference of 3 and 4
    std::string runs_;
};

/// T, in a context that does not take part in deduction (a nullptr surrogate is fine).
template <class T>
struct audit_same {
    using type = T;
};
template <class T>
using audit_same_t = typename audit_same<T>::type;

template <class T>
inline void audit_check_arguments(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                  const DenseNetwork<T>* surrogate, const AuditOptions& o)
{
    o.validate();
    audit_prefixed("AuditOptions: attack: ", [&] { o.attack.validate(net.output_size()); });
    check_attack_inputs(net, x, y, o.attack.bounds, "audit");
    if (y.size() == 0) throw invalid_argument("audit: no inputs (x has 0 rows)");
    if (surrogate && (surrogate->input_size() != net.input_size() || surrogate->output_size() != net.output_size()))
        throw invalid_argument("audit: the surrogate maps " + std::to_string(surrogate->input_size()) + " -> " +
                               std::to_string(surrogate->output_size()) + ", the network " +
                               std::to_string(net.input_size()) + " -> " + std::to_string(net.output_size()));
}

}  // namespace detail

/// The audit of `net` on inputs x (labels y); `surrogate` (nullptr: none) for the transfer
/// check. See the top of this header for the checks, curves, randomness and callbacks.
template <class T, class Engine, class... Callbacks>
inline AuditReport<T> audit(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                            const detail::audit_same_t<DenseNetwork<T>>* surrogate, const AuditOptions& o,
                            Engine& engine, Callbacks&&... callbacks)
{
    detail::audit_check_arguments(net, x, y, surrogate, o);
    std::array<std::uint64_t, detail::s_count> seeds{};
    for (auto& s : seeds) s = rng::bits64(engine);
    auto hooks = std::forward_as_tuple(callbacks...);
    detail::Auditor<T, decltype(hooks)> auditor(net, x, y, surrogate, o, seeds, hooks);
    return auditor.run();
}

}  // namespace sleepnet
