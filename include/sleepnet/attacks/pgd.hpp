#pragma once
// Projected gradient descent attacks: APGD (Croce & Hein 2020, the default) and plain PGD
// (Madry et al. 2018), under L-inf or L2, with the logit losses of logit_losses.hpp.
//
// Two modes:
//   pgd(net, x, y, eps, options, engine)          robust accuracy at a fixed budget eps;
//   pgd_minimal(net, x, y, options, search, engine)  per-sample minimal eps by bisection.
//
// A run attacks every still-unbroken input with one loss from one start point for `steps`
// iterations. The runs are, in order: for each loss of options.losses, for each target
// (targeted_dlr: the `targets` classes ranked 2nd, 3rd, ... by the clean logits; one run
// otherwise), `restarts` runs. The first run of each (loss, target) starts at x (then its
// first step is exactly FGSM's point with that loss), the others uniformly in the ball
// (random_start = true: every run). An input counts as broken at the first iterate of any
// run whose argmax differs from the label; that iterate is its adversarial (AutoAttack's
// per-sample worst case over its attacks).
//
// Budgets are norms in units of the input range, as FGSM's epsilon: the ball is
// ||x' - x|| <= eps * (hi - lo), intersected with the bounds.
//
// APGD iteration (eta starts at 2 eps, momentum 0.75 after the first step):
//   z = P(x_k + eta d(grad_k)),  x_{k+1} = P(x_k + 0.75 (z - x_k) + 0.25 (x_k - x_{k-1}))
// with d = sign (L-inf) or g / ||g||_2 (L2). Checkpoints after 0.22 N steps, then
// intervals shrinking by 0.03 N down to 0.06 N (the integer schedule of the reference
// code): eta halves when the loss rose in at most 0.75 of the interval's steps, or when
// eta was not halved at the previous checkpoint and the best loss has not improved since;
// a halving also moves the iterate back to the best point (momentum reset there).
// Plain PGD: x_{k+1} = P(x_k + alpha d(grad_k)), alpha = step_size * eps (2.5 / steps).
//
// Callbacks (core/callbacks.hpp): on_progress(const PgdProgress&) after each block of each
// run; returning true stops the attack.
//
// Random draws come from streams seeded by one draw of the caller's engine and the
// input's row (rng::stream), so an input's result does not depend on the batch or on the
// other inputs. Gradients come from the deterministic passes (exact_forward/backward),
// whose results do not depend on batch or threads; results are re-verified through
// DenseNetwork::predict.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../core/enum_names.hpp"
#include "../core/callbacks.hpp"
#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "../nn/dense_network.hpp"
#include "common.hpp"
#include "logit_losses.hpp"

namespace sleepnet {

enum class PgdMethod { apgd, pgd };

template <>
struct EnumNames<PgdMethod> {
    static constexpr const char* kind = "PGD method";
    static constexpr EnumName<PgdMethod> table[] = {{PgdMethod::apgd, "apgd"}, {PgdMethod::pgd, "pgd"}};
};

struct PgdOptions {
    PgdMethod method = PgdMethod::apgd;
    Norm norm = Norm::linf;
    std::vector<LogitLoss> losses{LogitLoss::cross_entropy, LogitLoss::margin};
    std::size_t steps = 100;
    std::size_t restarts = 1;   ///< runs per loss and target
    bool random_start = false;  ///< the first run starts in the ball too (else at x)
    double step_size = 0.0;     ///< pgd: step as a fraction of eps (0 = 2.5 / steps)
    std::size_t targets = 9;    ///< targeted_dlr: runs against the top-`targets` other classes
    Bounds bounds;
    std::size_t batch = 1024;  ///< inputs per block (memory bound only)

    /// Settings for a figure to report (the defaults are for searches and quick looks, and
    /// were 1.4-6.5 points of robust accuracy short of converged on MNIST networks):
    /// cross-entropy, margin and targeted DLR (9 targets), 100 steps, 5 runs per loss and
    /// target (the first from x, as the defaults', so it breaks every input they break).
    static PgdOptions thorough()
    {
        PgdOptions o;
        o.losses = {LogitLoss::cross_entropy, LogitLoss::margin, LogitLoss::targeted_dlr};
        o.restarts = 5;
        return o;
    }

    void validate(std::size_t classes) const
    {
        const std::string who = "PgdOptions";
        auto fail = [&](const std::string& m) { throw invalid_argument(who + ": " + m); };
        check::positive(who, "steps", steps);
        check::positive(who, "restarts", restarts);
        check::positive(who, "batch", batch);
        if (losses.empty()) fail("losses must not be empty");
        check::finite_nonnegative(who, "step_size", step_size);
        for (LogitLoss l : losses) {
            if (classes < min_classes(l))
                fail("loss " + to_string(l) + " needs at least " + std::to_string(min_classes(l)) +
                     " classes, the network has " + std::to_string(classes));
            if (l == LogitLoss::targeted_dlr && targets == 0) fail("targets must be > 0 with loss dlr-t");
        }
    }
};

/// The search of pgd_minimal: eps in (0, max_epsilon], stopped when the bracket (lo, hi] is
/// at most `tolerance` wide.
struct MinimalEpsilonSearch {
    double max_epsilon = 1.0;
    double tolerance = 1e-3;
    /// The next budget is hi - split (hi - lo): 0.5 is the bisection. A smaller split tests
    /// closer to the closest adversarial found, where a run mostly breaks the input in a few
    /// steps, while a run that does not break it costs all its steps: more rounds, fewer
    /// passes (with warm_start, 0.15 made 1.5x fewer on an MNIST control, bench/attacks).
    double split = 0.5;
    /// Every round after the first starts its first run at the closest adversarial found so
    /// far, projected into the round's ball, where that run would start at x (random_start
    /// off); the other runs start as they would (at x, or at random for restarts).
    bool warm_start = false;

    /// A cap on the rounds (never reached by a finished search): each round leaves at most
    /// max(split, 1 - split) of the bracket; at least 64.
    std::size_t max_rounds() const
    {
        const double shrink = std::max(split, 1.0 - split);
        const double needed = std::ceil(std::log(tolerance / max_epsilon) / std::log(shrink));
        return std::max<std::size_t>(64, 2 + static_cast<std::size_t>(std::max(0.0, needed)));
    }

    void validate() const
    {
        check::finite_positive("MinimalEpsilonSearch", "max_epsilon", max_epsilon);
        check::finite_positive("MinimalEpsilonSearch", "tolerance", tolerance);
        check::in_range("MinimalEpsilonSearch", "split", split, 0.01, 0.99, check::Interval::closed);
    }
};

/// What on_progress(const PgdProgress&) callbacks see after each block of each run;
/// returning true stops the attack (runs not yet made are skipped: a weaker attack).
struct PgdProgress {
    std::size_t round = 0;     ///< pgd_minimal: bisection round (0 = at max_epsilon); pgd: 0
    std::size_t run = 0;       ///< runs begun in this round
    std::size_t runs = 0;      ///< runs per round (losses x targets x restarts)
    std::size_t inputs = 0;    ///< inputs this round attacks
    std::size_t unbroken = 0;  ///< of those, not broken so far
};

namespace detail {

/// What one call of pgd_rows asks: the rows to attack and each row's budget.
struct PgdJob {
    std::vector<std::size_t> rows;
    std::vector<double> eps;  ///< per row of x (only the listed rows are read)
    std::uint64_t base = 0;   ///< stream seed
    std::uint64_t round = 0;  ///< distinguishes the calls of one search
    /// targeted_dlr: per row of x, the other classes by decreasing clean logit (once per job)
    std::vector<std::vector<std::size_t>> ranked;
};

/// Buffers of the passes of a run, reused across steps.
template <class T>
struct PgdScratch {
    ScratchMatrix<T> xs;
    LogitPass<T> pass;  ///< value, adversarial and dx of the last evaluation
    std::vector<T> z;
};

/// Per-input state of one run, indexed by slot (position in the block).
template <class T>
struct PgdState {
    std::size_t d = 0;
    matrix<T> x0, x, x_old, x_best, grad, grad_best;
    std::vector<T> radius;  ///< eps * (hi - lo)
    std::vector<double> eta, loss, loss_best, loss_best_check;
    std::vector<std::size_t> label, target, increases, queries;
    std::vector<char> reduced, broken;
    std::vector<std::size_t> active;  ///< slots still unbroken
    PgdScratch<T> scratch;            ///< pass buffers, reused by every run
};

/// Ball-and-bounds projection of row v (in place) around x0, radius r.
template <class T>
inline void pgd_project(T* v, const T* x0, std::size_t d, T r, Norm norm, const Bounds& b)
{
    const T lo = static_cast<T>(b.lo), hi = static_cast<T>(b.hi);
    if (norm == Norm::linf) {
        for (std::size_t j = 0; j < d; ++j)
            v[j] = std::min(hi, std::max(lo, std::min(x0[j] + r, std::max(x0[j] - r, v[j]))));
        return;
    }
    double s = 0.0;
    for (std::size_t j = 0; j < d; ++j) s += (static_cast<double>(v[j]) - x0[j]) * (static_cast<double>(v[j]) - x0[j]);
    const double n = std::sqrt(s);
    // a little inside the sphere, so rounding to T cannot leave the ball
    const double f =
        n > static_cast<double>(r) ? static_cast<double>(r) / n * (1.0 - 8.0 * std::numeric_limits<T>::epsilon()) : 1.0;
    for (std::size_t j = 0; j < d; ++j)
        v[j] = std::min(hi, std::max(lo, static_cast<T>(x0[j] + f * (static_cast<double>(v[j]) - x0[j]))));
}

/// v += step * d(g): sign(g) for L-inf, g / ||g||_2 for L2 (no move where g = 0).
template <class T>
inline void pgd_ascend(T* v, const T* g, std::size_t d, double step, Norm norm)
{
    if (norm == Norm::linf) {
        const T s = static_cast<T>(step);
        for (std::size_t j = 0; j < d; ++j) v[j] += g[j] > T(0) ? s : (g[j] < T(0) ? -s : T(0));
        return;
    }
    double s = 0.0;
    for (std::size_t j = 0; j < d; ++j) s += static_cast<double>(g[j]) * g[j];
    if (s == 0.0) return;
    const double f = step / std::sqrt(s);
    for (std::size_t j = 0; j < d; ++j) v[j] = static_cast<T>(v[j] + f * g[j]);
}

/// A uniform point of the ball (then clipped to the bounds) around x0.
template <class T>
inline void pgd_random_start(T* v, const T* x0, std::size_t d, T r, Norm norm, const Bounds& b, default_engine& e)
{
    if (norm == Norm::linf) {
        for (std::size_t j = 0; j < d; ++j) v[j] = x0[j] + r * static_cast<T>(2.0 * rng::uniform01<double>(e) - 1.0);
    } else {
        std::vector<double> u(d);
        double s = 0.0;
        for (auto& w : u) {
            w = rng::normal<double>(e);
            s += w * w;
        }
        const double rad = static_cast<double>(r) * std::pow(rng::uniform01<double>(e), 1.0 / static_cast<double>(d));
        const double f = s > 0.0 ? rad / std::sqrt(s) : 0.0;
        for (std::size_t j = 0; j < d; ++j) v[j] = static_cast<T>(x0[j] + f * u[j]);
    }
    pgd_project(v, x0, d, r, norm, b);
}

/// Loss, its input gradient (into s.grad) and whether the point is adversarial, for every
/// active slot; value[r] and adversarial[r] follow the order of s.active.
template <class T>
inline void pgd_evaluate(const DenseNetwork<T>& net, LogitLoss loss, PgdState<T>& s, PgdScratch<T>& w)
{
    const std::size_t n = s.active.size(), d = s.d;
    resize_if_needed(w.xs, n, d);
    for (std::size_t r = 0; r < n; ++r) {
        const T* row = s.x.data() + s.active[r] * d;
        std::copy(row, row + d, w.xs.data() + r * d);
    }
    logit_pass(
        net, w.xs.data(), n, loss, [&](std::size_t r) { return s.label[s.active[r]]; },
        [&](std::size_t r) { return s.target[s.active[r]]; }, true, w.pass);
    for (std::size_t r = 0; r < n; ++r) {
        ++s.queries[s.active[r]];
        std::copy(w.pass.dx.data() + r * d, w.pass.dx.data() + (r + 1) * d, s.grad.data() + s.active[r] * d);
    }
}

/// One step of every active slot: APGD's momentum step, or PGD's plain one.
template <class T>
inline void pgd_step(PgdState<T>& s, const PgdOptions& o, std::size_t iteration, PgdScratch<T>& w)
{
    const std::size_t d = s.d;
    w.z.resize(d);
    const double a = iteration == 0 ? 1.0 : 0.75;
    for (std::size_t slot : s.active) {
        T* x = s.x.data() + slot * d;
        T* old = s.x_old.data() + slot * d;
        const T* x0 = s.x0.data() + slot * d;
        const T* g = s.grad.data() + slot * d;
        std::copy(x, x + d, w.z.data());
        pgd_ascend(w.z.data(), g, d, s.eta[slot], o.norm);
        pgd_project(w.z.data(), x0, d, s.radius[slot], o.norm, o.bounds);
        if (o.method == PgdMethod::apgd && a != 1.0) {
            for (std::size_t j = 0; j < d; ++j) {
                const double v =
                    x[j] + a * (static_cast<double>(w.z[j]) - x[j]) + (1.0 - a) * (static_cast<double>(x[j]) - old[j]);
                w.z[j] = static_cast<T>(v);
            }
            pgd_project(w.z.data(), x0, d, s.radius[slot], o.norm, o.bounds);
        }
        std::copy(x, x + d, old);
        std::copy(w.z.begin(), w.z.end(), x);
    }
}

/// After an evaluation: count loss increases, keep the best point, retire broken slots
/// (all slots run every step when `retire` is false; broken then stays set once set).
template <class T>
inline void pgd_record(PgdState<T>& s, const PgdScratch<T>& w, bool retire = true)
{
    const std::size_t d = s.d;
    for (std::size_t r = 0; r < s.active.size(); ++r) {
        const std::size_t slot = s.active[r];
        const double v = w.pass.value[r];
        if (v > s.loss[slot]) ++s.increases[slot];
        s.loss[slot] = v;
        if (v > s.loss_best[slot]) {
            s.loss_best[slot] = v;
            std::copy(s.x.data() + slot * d, s.x.data() + (slot + 1) * d, s.x_best.data() + slot * d);
            std::copy(s.grad.data() + slot * d, s.grad.data() + (slot + 1) * d, s.grad_best.data() + slot * d);
        }
        s.broken[slot] = s.broken[slot] || w.pass.adversarial[r];
    }
    if (!retire) return;
    s.active.erase(
        std::remove_if(s.active.begin(), s.active.end(), [&](std::size_t slot) { return s.broken[slot] != 0; }),
        s.active.end());
}

/// APGD checkpoint after `interval` steps: halve eta (and return to the best point) where
/// the loss rose too rarely, or did not improve since a checkpoint that kept eta.
template <class T>
inline void pgd_checkpoint(PgdState<T>& s, std::size_t interval)
{
    const std::size_t d = s.d;
    for (std::size_t slot : s.active) {
        const bool oscillating = static_cast<double>(s.increases[slot]) <= 0.75 * static_cast<double>(interval);
        const bool stalled = !s.reduced[slot] && s.loss_best_check[slot] >= s.loss_best[slot];
        const bool reduce = oscillating || stalled;
        s.reduced[slot] = reduce;
        s.loss_best_check[slot] = s.loss_best[slot];
        s.increases[slot] = 0;
        if (!reduce) continue;
        s.eta[slot] *= 0.5;
        std::copy(s.x_best.data() + slot * d, s.x_best.data() + (slot + 1) * d, s.x.data() + slot * d);
        std::copy(s.x_best.data() + slot * d, s.x_best.data() + (slot + 1) * d, s.x_old.data() + slot * d);
        std::copy(s.grad_best.data() + slot * d, s.grad_best.data() + (slot + 1) * d, s.grad.data() + slot * d);
        s.loss[slot] = s.loss_best[slot];
    }
}

/// APGD's checkpoints (step counts after which the step size is reviewed) for N steps:
/// the first after 0.22 N, then intervals shrinking by 0.03 N down to 0.06 N (the integer
/// form of p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06) in the reference code).
inline std::vector<std::size_t> apgd_checkpoints(std::size_t steps)
{
    const auto n = static_cast<double>(steps);
    std::size_t interval = std::max<std::size_t>(static_cast<std::size_t>(0.22 * n), 1);
    const std::size_t shrink = std::max<std::size_t>(static_cast<std::size_t>(0.03 * n), 1);
    const std::size_t shortest = std::max<std::size_t>(static_cast<std::size_t>(0.06 * n), 1);
    std::vector<std::size_t> out;
    for (std::size_t at = interval; at <= steps; at += interval) {
        out.push_back(at);
        interval = std::max(interval > shrink ? interval - shrink : 0, shortest);
    }
    return out;
}

/// One run from the start points in s.x/// One run from the start points in s.x: evaluate, then `steps` steps (APGD checkpoints
/// on its schedule). Slots end broken (s.x is their adversarial) or not.
template <class T>
inline void pgd_run(const DenseNetwork<T>& net, const PgdOptions& o, LogitLoss loss, PgdState<T>& s, bool retire = true)
{
    PgdScratch<T>& w = s.scratch;
    pgd_evaluate(net, loss, s, w);
    for (std::size_t r = 0; r < s.active.size(); ++r) {
        const std::size_t slot = s.active[r];
        s.loss[slot] = s.loss_best[slot] = s.loss_best_check[slot] = w.pass.value[r];
        const double alpha =
            o.method == PgdMethod::apgd ? 2.0 : (o.step_size > 0.0 ? o.step_size : 2.5 / static_cast<double>(o.steps));
        s.eta[slot] = alpha * static_cast<double>(s.radius[slot]);
    }
    std::copy(s.x.begin(), s.x.end(), s.x_best.begin());
    std::copy(s.x.begin(), s.x.end(), s.x_old.begin());
    std::copy(s.grad.begin(), s.grad.end(), s.grad_best.begin());
    pgd_record(s, w, retire);
    const std::vector<std::size_t> checks = apgd_checkpoints(o.steps);
    std::size_t next = 0, last = 0;
    for (std::size_t i = 0; i < o.steps && !s.active.empty(); ++i) {
        pgd_step(s, o, i, w);
        pgd_evaluate(net, loss, s, w);
        pgd_record(s, w, retire);
        if (o.method == PgdMethod::apgd && next < checks.size() && i + 1 == checks[next]) {
            pgd_checkpoint(s, checks[next] - last);
            last = checks[next++];
        }
    }
}

/// A block's state: the listed rows of x, their labels, targets and radii, each started
/// at x or at a random point of its ball (stream of (row, round, run)).
template <class T>
inline void pgd_init_block(PgdState<T>& s, const matrix<T>& x, const label_vector& y, const std::size_t* rows,
                           std::size_t n, const std::vector<std::size_t>& target, const PgdJob& job,
                           const PgdOptions& o, bool random, std::uint64_t run, const matrix<T>* warm = nullptr)
{
    const std::size_t d = x.shape()[1];
    s.d = d;
    for (matrix<T>* m : {&s.x0, &s.x, &s.x_old, &s.x_best, &s.grad, &s.grad_best}) resize_if_needed(*m, n, d);
    s.radius.assign(n, T(0));
    for (auto* v : {&s.eta, &s.loss, &s.loss_best, &s.loss_best_check}) v->assign(n, 0.0);
    for (auto* v : {&s.label, &s.target, &s.increases, &s.queries}) v->assign(n, 0);
    s.reduced.assign(n, 0);
    s.broken.assign(n, 0);
    s.active.resize(n);
    std::iota(s.active.begin(), s.active.end(), std::size_t{0});
    for (std::size_t slot = 0; slot < n; ++slot) {
        const std::size_t row = rows[slot];
        const T* x0 = x.data() + row * d;
        std::copy(x0, x0 + d, s.x0.data() + slot * d);
        s.label[slot] = y(row);
        s.target[slot] = target.empty() ? 0 : target[row];
        s.radius[slot] = static_cast<T>(job.eps[row] * (o.bounds.hi - o.bounds.lo));
        if (random) {
            default_engine e = rng::stream(job.base, row, (job.round << 24) | run);
            pgd_random_start(s.x.data() + slot * d, x0, d, s.radius[slot], o.norm, o.bounds, e);
        } else if (warm != nullptr) {
            const T* w = warm->data() + row * d;
            std::copy(w, w + d, s.x.data() + slot * d);
            pgd_project(s.x.data() + slot * d, x0, d, s.radius[slot], o.norm, o.bounds);
        } else {
            std::copy(x0, x0 + d, s.x.data() + slot * d);
        }
    }
}

/// Runs made with one loss: one per target for targeted_dlr, else one (times restarts).
inline std::size_t pgd_runs_of(LogitLoss loss, const PgdOptions& o, std::size_t classes)
{
    return loss == LogitLoss::targeted_dlr ? std::min(o.targets, classes - 1) : 1;
}

inline std::size_t pgd_runs(const PgdOptions& o, std::size_t classes)
{
    std::size_t runs = 0;
    for (LogitLoss l : o.losses) runs += pgd_runs_of(l, o, classes) * o.restarts;
    return runs;
}

/// Per row, the other classes by decreasing clean logit (first index on ties).
template <class T>
inline std::vector<std::vector<std::size_t>> pgd_ranked_others(const DenseNetwork<T>& net, const matrix<T>& x,
                                                               const label_vector& y)
{
    const matrix<T> z = net.logits(x);
    const std::size_t c = net.output_size();
    std::vector<std::vector<std::size_t>> out(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
        for (std::size_t k = 0; k < c; ++k)
            if (k != y(i)) out[i].push_back(k);
        std::stable_sort(out[i].begin(), out[i].end(), [&](std::size_t a, std::size_t b) { return z(i, a) > z(i, b); });
    }
    return out;
}

/// The rows the attack starts on: the correctly classified ones.
template <class T>
inline std::vector<std::size_t> attempted_rows(const AttackResult<T>& r)
{
    std::vector<std::size_t> rows;
    for (const auto& s : r.samples)
        if (s.attempted) rows.push_back(s.index);
    return rows;
}

/// The job of an attack on `net` at budget eps: the rows `r` attempts, one stream seed from
/// the engine, and the class ranking when a loss is targeted.
template <class T, class Engine>
inline PgdJob pgd_job(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y, const AttackResult<T>& r,
                      double eps, const PgdOptions& o, Engine& engine)
{
    PgdJob job;
    job.rows = attempted_rows(r);
    job.eps.assign(y.size(), eps);
    job.base = rng::bits64(engine);
    if (std::find(o.losses.begin(), o.losses.end(), LogitLoss::targeted_dlr) != o.losses.end())
        job.ranked = pgd_ranked_others(net, x, y);
    return job;
}

/// Every run of the options on the job's rows, each on the rows still unbroken. Broken
/// rows get success = 1 and their adversarial in `adv`; queries (forward + backward passes)
/// are added up per row. With `warm`, the first run starts at its rows (projected into the
/// ball) instead of at x.
template <class T, class Notify>
inline bool pgd_rows(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y, const PgdJob& job,
                     const PgdOptions& o, matrix<T>& adv, std::vector<char>& success, std::vector<std::size_t>& queries,
                     Notify&& notify, const matrix<T>* warm = nullptr)
{
    const std::size_t d = x.shape()[1];
    std::vector<std::size_t> left = job.rows;
    std::uint64_t run = 0;
    PgdState<T> s;
    PgdProgress progress{job.round, 0, pgd_runs(o, net.output_size()), job.rows.size(), job.rows.size()};
    for (LogitLoss loss : o.losses) {
        const bool targeted = loss == LogitLoss::targeted_dlr;
        for (std::size_t t = 0; t < pgd_runs_of(loss, o, net.output_size()); ++t) {
            std::vector<std::size_t> target;
            if (targeted) {
                target.assign(y.size(), 0);
                for (std::size_t row : left) target[row] = job.ranked[row][t];
            }
            for (std::size_t r = 0; r < o.restarts && !left.empty(); ++r, ++run) {
                progress.run = run + 1;
                for (std::size_t b = 0; b < left.size(); b += o.batch) {
                    const std::size_t n = std::min(o.batch, left.size() - b);
                    pgd_init_block(s, x, y, left.data() + b, n, target, job, o, o.random_start || r > 0, run,
                                   run == 0 ? warm : nullptr);
                    pgd_run(net, o, loss, s);
                    for (std::size_t slot = 0; slot < n; ++slot) {
                        const std::size_t row = left[b + slot];
                        queries[row] += s.queries[slot];
                        if (!s.broken[slot]) continue;
                        success[row] = 1;
                        --progress.unbroken;
                        std::copy(s.x.data() + slot * d, s.x.data() + (slot + 1) * d, adv.data() + row * d);
                    }
                    if (notify(progress)) return true;
                }
                left.erase(std::remove_if(left.begin(), left.end(), [&](std::size_t row) { return success[row] != 0; }),
                           left.end());
            }
        }
    }
    return false;
}

template <class T>
inline void pgd_check(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y, const PgdOptions& o,
                      const char* who)
{
    o.validate(net.output_size());
    check_attack_inputs(net, x, y, o.bounds, who);
}

}  // namespace detail

/// (A)PGD at budget `epsilon` on every row of x: success = broken within the ball;
/// AttackResult::robust_accuracy() is the robust accuracy at that budget.
template <class T, class Engine, class... Callbacks>
inline AttackResult<T> pgd(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y, double epsilon,
                           const PgdOptions& options, Engine& engine, Callbacks&&... callbacks)
{
    auto hooks = std::forward_as_tuple(callbacks...);
    detail::pgd_check(net, x, y, options, "pgd");
    check::finite_nonnegative("pgd", "epsilon", epsilon);
    AttackResult<T> result = detail::start_result(net, x, y, to_string(options.method) + "-" + to_string(options.norm));
    const detail::PgdJob job = detail::pgd_job(net, x, y, result, epsilon, options, engine);
    std::vector<char> success(y.size(), 0);
    std::vector<std::size_t> queries(y.size(), 0);
    detail::pgd_rows(net, x, y, job, options, result.adversarial, success, queries,
                     [&](const PgdProgress& p) { return detail::call_on_progress(hooks, p); });
    for (auto& s : result.samples) {
        s.success = success[s.index] != 0;
        s.iterations = queries[s.index];
    }
    detail::verify_result(net, x, result, options.bounds);
    return result;
}

/// Per-sample minimal budget: (A)PGD at max_epsilon, then rounds at hi - split (hi - lo)
/// (search.split; 0.5 = bisection) until the bracket (lo, hi] is at most `tolerance` wide,
/// where hi is always the norm of the closest adversarial found (an attack at budget e may
/// find one well inside the ball). epsilon = that norm (+inf when max_epsilon does not break
/// the input); the adversarial is kept. search.warm_start starts each later round's first
/// run at that adversarial.
template <class T, class Engine, class... Callbacks>
inline AttackResult<T> pgd_minimal(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                   const PgdOptions& options, const MinimalEpsilonSearch& search, Engine& engine,
                                   Callbacks&&... callbacks)
{
    auto hooks = std::forward_as_tuple(callbacks...);
    detail::pgd_check(net, x, y, options, "pgd_minimal");
    search.validate();
    AttackResult<T> result = detail::start_result(net, x, y, to_string(options.method) + "-" + to_string(options.norm));
    const std::size_t n = y.size(), d = x.shape()[1];
    std::vector<double> lo(n, 0.0), hi(n, search.max_epsilon);
    detail::PgdJob job = detail::pgd_job(net, x, y, result, search.max_epsilon, options, engine);
    matrix<T> adv = x;
    std::vector<std::size_t> queries(n, 0);
    const std::size_t rounds = search.max_rounds();
    for (bool stop = false; !stop && !job.rows.empty() && job.round < rounds; ++job.round) {
        std::vector<char> success(n, 0);
        const matrix<T>* warm = search.warm_start && job.round > 0 ? &result.adversarial : nullptr;
        stop = detail::pgd_rows(
            net, x, y, job, options, adv, success, queries,
            [&](const PgdProgress& p) { return detail::call_on_progress(hooks, p); }, warm);
        std::vector<std::size_t> next;
        for (std::size_t row : job.rows) {
            auto& s = result.samples[row];
            if (success[row]) {
                s.success = true;
                hi[row] = perturbation_norm(adv.data() + row * d, x.data() + row * d, d, options.norm, options.bounds);
                std::copy(adv.data() + row * d, adv.data() + (row + 1) * d, result.adversarial.data() + row * d);
            } else {
                lo[row] = job.eps[row];
            }
            // split 0.5 gives (lo + hi) / 2 bit for bit (halving is exact)
            job.eps[row] = (1.0 - search.split) * hi[row] + search.split * lo[row];
            if (s.success && hi[row] - lo[row] > search.tolerance) next.push_back(row);
        }
        job.rows = std::move(next);
    }
    for (auto& s : result.samples) {
        s.iterations = queries[s.index];
        if (s.attempted) s.epsilon = s.success ? hi[s.index] : std::numeric_limits<double>::infinity();
    }
    detail::verify_result(net, x, result, options.bounds);
    return result;
}

}  // namespace sleepnet
