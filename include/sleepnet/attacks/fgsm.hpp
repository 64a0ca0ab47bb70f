#pragma once
// FGSM with minimal epsilon (the accuracy-versus-epsilon curves: fgsm_curve.hpp).
//
// Minimal epsilon (Foolbox v1/v2 GradientSignAttack, the paper's FGSM score):
//   g = sign(d loss(x0, y) / dx) * (hi - lo), computed once at x0;
//   grid eps_i = max_epsilon * i / steps, i = 1..steps (0.001 .. 1.000 by default);
//   the first i with argmax f(clip(x0 + eps_i g)) != y; if i <= 20 (Foolbox: index < 20)
//   the search repeats once on a finer grid of 20 steps in (0, eps_i] and takes its
//   first adversarial. No adversarial on the grid: failure (epsilon = +inf).
// The grid is the parity mode: the decision may flip back and forth along the ray, and
// the first flip is what counts. FgsmSearch::bisection is a faster extra mode that
// assumes one flip: it scans every bisection.stride-th grid point, then bisects between
// the last clean and the first adversarial one (bisection.iterations halvings), so it
// returns an epsilon between grid points and may miss a flip that reverts within a
// stride.
//
// Candidates are evaluated in batches through DenseNetwork::logits, whose results do not
// depend on the batch, so the answer for a sample is the same whatever else is attacked
// with it.
//
// FgsmOptions::grid.certify (enabled by default) makes the grid mode skip the grid points a sound
// bound proves clean (attacks/fgsm_certify.hpp): whole segments of the ray are certified
// at once, and only the points next to a decision change go through the network. The
// results (epsilon, success, adversarial, iterations) are those of the brute-force scan
// (grid.certify.enabled = false), bit for bit; only the work differs. Networks or bounds the bound
// does not cover (bounds not exact in T) use the brute force.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../nn/dense_network.hpp"
#include "common.hpp"
#include "fgsm_certify.hpp"

namespace sleepnet {

enum class FgsmSearch { grid, bisection };

template <>
struct EnumNames<FgsmSearch> {
    static constexpr const char* kind = "FGSM search";
    static constexpr EnumName<FgsmSearch> table[] = {{FgsmSearch::grid, "grid"}, {FgsmSearch::bisection, "bisection"}};
};

/// Work done by one fgsm() call (FgsmResult::stats).
struct FgsmStats {
    std::size_t bounds = 0;       ///< certified grid: segment bounds computed
    std::size_t certified = 0;    ///< certified grid: segments certified clean
    std::size_t evaluations = 0;  ///< candidate rows evaluated through the network
};

/// fgsm()'s result: the attack result and the work it took.
template <class T>
struct FgsmResult : AttackResult<T> {
    FgsmStats stats;
};

/// The certified grid (attacks/fgsm_certify.hpp): skip grid points that a sound bound
/// proves clean (same results as the brute-force scan, far fewer network evaluations).
struct FgsmCertifyOptions {
    bool enabled = true;       ///< false = evaluate every grid point (brute force)
    std::size_t leaf = 2;      ///< runs of at most this many points are evaluated directly
    std::size_t chunk = 2048;  ///< samples handled together (memory ~ 20 kB each)
    double reach = 0.8;        ///< next segment = this fraction of the predicted distance to a flip
    std::size_t first = 0;     ///< width of the first segment (0 = steps / 10)

    /// Throws invalid_argument naming `who` and the field (prefixed by `at`).
    void validate(const std::string& who = "FgsmCertifyOptions", const std::string& at = "") const
    {
        check::positive(who, at + "leaf", leaf);
        check::positive(who, at + "chunk", chunk);
        check::in_range(who, at + "reach", reach, 0.0, 1.0, check::Interval::open_closed);
    }
};

/// FgsmSearch::grid: the Foolbox refinement near zero and the certified scan.
struct FgsmGridOptions {
    std::size_t refine_steps = 20;  ///< finer grid when the first hit is among the first refine_below points
    std::size_t refine_below = 20;
    FgsmCertifyOptions certify;

    /// Throws invalid_argument naming `who` and the field (prefixed by `at`).
    void validate(const std::string& who = "FgsmGridOptions", const std::string& at = "") const
    {
        check::positive(who, at + "refine_steps", refine_steps);
        certify.validate(who, at + "certify.");
    }
};

/// FgsmSearch::bisection: a coarse scan, then halvings of the bracket.
struct FgsmBisectionOptions {
    std::size_t stride = 10;      ///< coarse scan every this many grid points
    std::size_t iterations = 12;  ///< halvings of the bracket

    /// Throws invalid_argument naming `who` and the field (prefixed by `at`).
    void validate(const std::string& who = "FgsmBisectionOptions", const std::string& at = "") const
    {
        check::positive(who, at + "stride", stride);
    }
};

/// Options of fgsm(): the settings both search modes read, then each mode's own.
struct FgsmOptions {
    FgsmSearch search = FgsmSearch::grid;
    std::size_t steps = 1000;  ///< grid points in (0, max_epsilon] (both modes)
    double max_epsilon = 1.0;
    AttackLoss loss = AttackLoss::network;
    Bounds bounds;
    std::size_t batch_rows = 4096;   ///< candidate rows evaluated per logits() call (memory bound only)
    FgsmGridOptions grid;            ///< read by FgsmSearch::grid only
    FgsmBisectionOptions bisection;  ///< read by FgsmSearch::bisection only

    void validate() const
    {
        const std::string who = "FgsmOptions";
        check::positive(who, "steps", steps);
        check::finite_positive(who, "max_epsilon", max_epsilon);
        check::positive(who, "batch_rows", batch_rows);
        grid.validate(who, "grid.");
        bisection.validate(who, "bisection.");
    }
};

namespace detail {

/// Rows clip(x0 + eps * g) for the given (sample, eps) pairs (out: matrix<T> or ScratchMatrix<T>).
template <class T, class Out>
inline void fgsm_candidates(const matrix<T>& x, const matrix<T>& g, const std::vector<std::size_t>& sample,
                            const std::vector<double>& eps, const Bounds& b, Out& out)
{
    const std::size_t d = x.shape()[1];
    resize_if_needed(out, sample.size(), d);
    const T lo = static_cast<T>(b.lo), hi = static_cast<T>(b.hi);
    for (std::size_t r = 0; r < sample.size(); ++r) {
        const T* x0 = x.data() + sample[r] * d;
        const T* gr = g.data() + sample[r] * d;
        T* o = out.data() + r * d;
        const T e = static_cast<T>(eps[r]);
        for (std::size_t j = 0; j < d; ++j) {
            o[j] = std::min(hi, std::max(lo, x0[j] + e * gr[j]));
        }
    }
}

/// The class DenseNetwork::predict gives each candidate row (argmax of the logits, first
/// index on ties). `st` is scratch, reused between calls.
template <class T>
inline std::vector<std::size_t> fgsm_classes(const DenseNetwork<T>& net, const ScratchMatrix<T>& cand, std::size_t rows,
                                             ExactState<T>& st)
{
    const std::size_t c = net.output_size(), d = net.input_size();
    std::vector<std::size_t> cls(rows);
    // in chunks of inference_chunk rows, as predict() (activations stay in cache)
    for (std::size_t r0 = 0; r0 < rows; r0 += detail::inference_chunk) {
        const std::size_t n = std::min(rows - r0, detail::inference_chunk);
        net.exact_forward(cand.data() + r0 * d, n, st);
        const T* z = st.zt.back().data();  // c x n
        for (std::size_t r = 0; r < n; ++r) {
            std::size_t best = 0;
            for (std::size_t k = 1; k < c; ++k)
                if (z[best * n + r] < z[k * n + r]) best = k;  // as std::max_element in predict()
            cls[r0 + r] = best;
        }
    }
    return cls;
}

/// Which candidate rows are adversarial: fgsm_classes != label of their sample.
template <class T>
inline std::vector<char> fgsm_adversarial(const DenseNetwork<T>& net, const ScratchMatrix<T>& cand,
                                          const std::vector<std::size_t>& sample, const label_vector& y,
                                          ExactState<T>& st)
{
    const std::vector<std::size_t> cls = fgsm_classes(net, cand, sample.size(), st);
    std::vector<char> adv(sample.size());
    for (std::size_t r = 0; r < sample.size(); ++r) adv[r] = cls[r] != y(sample[r]) ? 1 : 0;
    return adv;
}

/// The inputs of one fgsm() call and a queue of candidate rows, evaluated in batches by flush().
template <class T>
struct FgsmBatch {
    const DenseNetwork<T>& net;
    const matrix<T>& x;
    const matrix<T>& g;  ///< fgsm_direction of x
    const label_vector& y;
    const FgsmOptions& o;
    FgsmStats& stats;                 ///< work counters (added to)
    const double step;                ///< grid spacing max_epsilon / steps
    std::vector<std::size_t> sample;  ///< queued rows: sample, epsilon, caller's index
    std::vector<double> eps;
    std::vector<std::size_t> index;
    ScratchMatrix<T> cand;
    ExactState<T> st_eval;

    FgsmBatch(const DenseNetwork<T>& net_, const matrix<T>& x_, const matrix<T>& g_, const label_vector& y_,
              const FgsmOptions& o_, FgsmStats& stats_)
        : net(net_), x(x_), g(g_), y(y_), o(o_), stats(stats_), step(o_.max_epsilon / static_cast<double>(o_.steps))
    {
    }
    std::size_t size() const { return x.shape()[0]; }
    /// Epsilon of grid point k (1-based).
    double grid_eps(std::size_t k) const { return step * static_cast<double>(k); }
    /// Queues the candidate clip(x_i + e * g_i), reported to flush()'s callback with index k.
    void push(std::size_t i, double e, std::size_t k)
    {
        sample.push_back(i);
        eps.push_back(e);
        index.push_back(k);
    }
    /// Evaluates the queued rows, calls on_result(sample, index, adversarial) for each, and empties the queue.
    template <class F>
    void flush(F&& on_result)
    {
        if (sample.empty()) return;
        fgsm_candidates(x, g, sample, eps, o.bounds, cand);
        const auto adv = fgsm_adversarial(net, cand, sample, y, st_eval);
        stats.evaluations += sample.size();
        for (std::size_t r = 0; r < sample.size(); ++r) on_result(sample[r], index[r], adv[r] != 0);
        sample.clear();
        eps.clear();
        index.clear();
    }
};

/// State of one sample in the certified grid scan.
struct FgsmCertState {
    std::size_t f = 1;       ///< next grid index not known to be clean
    std::size_t w = 0;       ///< width of the next segment (grid points)
    std::size_t leaves = 0;  ///< consecutive clean leaf runs
    double pred = 0.0;       ///< predicted crossing of the last bound
    bool exact = false;      ///< evaluate the next w points directly
    bool done = false;
};

/// One certify.chunk of samples in the certified grid scan: their states and one round's work.
template <class T>
struct FgsmCertChunk {
    std::vector<std::size_t> samples;
    std::vector<FgsmCertState> st;                         ///< per entry of samples
    std::vector<typename FgsmCertifier<T>::Segment> segs;  ///< segments to bound ...
    std::vector<std::size_t> seg_of;                       ///< ... and their entry in samples
    std::vector<typename FgsmCertifier<T>::Bound> bnds;
    std::vector<std::size_t> ex_sample, ex_index, ex_of;  ///< points to evaluate: sample, grid index, entry
    std::vector<double> ex_eps;
};

/// The next segment width of a certified scan from the predicted flip of its last bound,
/// `dist` grid points ahead of s.f (< 0: behind it, huge: none predicted): a segment that
/// stops short of it (c.reach of the way, and at least 2 points before), or, when that
/// would be at most c.leaf points, the points up to just past it, evaluated directly.
inline void fgsm_certify_width(FgsmCertState& s, double dist, bool failed, const FgsmCertifyOptions& c)
{
    if (dist < -0.5) {  // the flip was predicted behind us
        if (failed) {
            s.w = c.leaf;  // evaluate (always makes progress)
            s.exact = true;
        } else {
            s.w = c.leaf << std::min<std::size_t>(s.leaves, 20);  // grow after clean runs
        }
        return;
    }
    const double want = std::min(c.reach * dist, dist - 2.0);
    if (want <= static_cast<double>(c.leaf)) {
        s.w = std::max<std::size_t>(c.leaf, static_cast<std::size_t>(dist) + 2);
        s.exact = true;
    } else if (failed && want >= static_cast<double>(s.w)) {
        s.w /= 2;
    } else {
        s.w = static_cast<std::size_t>(std::min(1e9, want));
    }
}

/// The next step of a sample of the attack's uniform grid (fgsm_certify_width).
template <class T>
inline void fgsm_certify_plan(const FgsmBatch<T>& b, FgsmCertState& s, bool failed)
{
    const double dist = std::isinf(s.pred) ? 1e18 : (s.pred - b.grid_eps(s.f)) / b.step;
    fgsm_certify_width(s, dist, failed, b.o.grid.certify);
}

/// One round's work of every sample of `ch` not done, on grid points [s.f, end): a segment
/// to bound (labelled label_of(entry)), or (runs of at most `leaf` points, planned exact
/// runs) grid points to evaluate; false when none is left. eps_of(k): epsilon of point k.
template <class T, class EpsOf, class LabelOf>
inline bool fgsm_certify_collect_on(FgsmCertChunk<T>& ch, std::size_t end, std::size_t leaf, EpsOf&& eps_of,
                                    LabelOf&& label_of)
{
    ch.segs.clear();
    ch.seg_of.clear();
    ch.ex_sample.clear();
    ch.ex_index.clear();
    ch.ex_eps.clear();
    ch.ex_of.clear();
    for (std::size_t k = 0; k < ch.samples.size(); ++k) {
        FgsmCertState& s = ch.st[k];
        if (s.done) continue;
        const std::size_t left = end - s.f;
        s.w = std::max<std::size_t>(1, std::min(s.w, left));
        if (s.w <= leaf || s.exact) {
            s.exact = false;
            for (std::size_t i = 0; i < s.w; ++i) {
                ch.ex_sample.push_back(ch.samples[k]);
                ch.ex_index.push_back(s.f + i);
                ch.ex_eps.push_back(eps_of(s.f + i));
                ch.ex_of.push_back(k);
            }
        } else {
            ch.segs.push_back({ch.samples[k], eps_of(s.f), eps_of(s.f + s.w - 1), label_of(k)});
            ch.seg_of.push_back(k);
        }
    }
    return !(ch.segs.empty() && ch.ex_sample.empty());
}

/// The attack's round (grid points 1..steps, segments labelled with the sample's label).
template <class T>
inline bool fgsm_certify_collect(const FgsmBatch<T>& b, FgsmCertChunk<T>& ch)
{
    return fgsm_certify_collect_on(
        ch, b.o.steps + 1, b.o.grid.certify.leaf, [&](std::size_t k) { return b.grid_eps(k); },
        [](std::size_t) { return FgsmCertifier<T>::sample_label; });
}

/// Bounds the round's segments (counted in `bounds`). A certified one calls
/// on_certified(q, state) and moves its sample past it (done at grid point `end`); then
/// every bounded sample plans its next width with plan(state, failed).
template <class T, class OnCertified, class Plan>
inline void fgsm_certify_bound_on(FgsmCertifier<T>& cert, FgsmCertChunk<T>& ch, std::size_t end, std::size_t& bounds,
                                  OnCertified&& on_certified, Plan&& plan)
{
    cert.bound(ch.segs, ch.bnds);
    bounds += ch.segs.size();
    for (std::size_t q = 0; q < ch.segs.size(); ++q) {
        FgsmCertState& s = ch.st[ch.seg_of[q]];
        const bool ok = ch.bnds[q].lower > 0.0;
        s.pred = ch.bnds[q].crossing;
        if (ok) {
            on_certified(q, s);
            s.f += s.w;
            s.leaves = 0;
            if (s.f == end) {
                s.done = true;
                continue;
            }
        }
        plan(s, !ok);
    }
}

/// The attack's bounds: a certified segment is clean (recorded in `certified`).
template <class T>
inline void fgsm_certify_bound(const FgsmBatch<T>& b, FgsmCertifier<T>& cert, FgsmCertChunk<T>& ch,
                               std::vector<std::vector<std::pair<double, double>>>& certified)
{
    fgsm_certify_bound_on(
        cert, ch, b.o.steps + 1, b.stats.bounds,
        [&](std::size_t q, const FgsmCertState&) {
            certified[ch.segs[q].sample].emplace_back(ch.segs[q].a, ch.segs[q].b);
            ++b.stats.certified;
        },
        [&](FgsmCertState& s, bool failed) { fgsm_certify_plan(b, s, failed); });
}

/// Evaluates the round's grid points in batches of batch_rows: per entry of samples, the
/// first adversarial grid index among them (0 = none).
template <class T>
inline std::vector<std::size_t> fgsm_certify_evaluate(FgsmBatch<T>& b, const FgsmCertChunk<T>& ch)
{
    std::vector<std::size_t> first_adv(ch.samples.size(), 0);
    auto record = [&](std::size_t, std::size_t r, bool adv) {
        const std::size_t k = ch.ex_of[r];
        if (adv && (first_adv[k] == 0 || ch.ex_index[r] < first_adv[k])) first_adv[k] = ch.ex_index[r];
    };
    for (std::size_t r = 0; r < ch.ex_sample.size(); ++r) {
        b.push(ch.ex_sample[r], ch.ex_eps[r], r);
        if (b.sample.size() >= b.o.batch_rows) b.flush(record);
    }
    b.flush(record);
    return first_adv;
}

/// Advances the evaluated samples: a hit ends a sample's scan (into `hit`), all clean moves
/// it past its points and plans the next step.
template <class T>
inline void fgsm_certify_advance(const FgsmBatch<T>& b, FgsmCertChunk<T>& ch, const std::vector<std::size_t>& first_adv,
                                 std::vector<std::size_t>& hit)
{
    for (std::size_t r = 0; r < ch.ex_sample.size(); ++r) {
        const std::size_t k = ch.ex_of[r];
        FgsmCertState& s = ch.st[k];
        if (s.done) continue;
        if (first_adv[k] != 0) {
            hit[ch.samples[k]] = first_adv[k];
            s.done = true;
            continue;
        }
        // all of this sample's points were clean (handled once, at its first row)
        s.f += s.w;
        ++s.leaves;
        if (s.f > b.o.steps)
            s.done = true;
        else
            fgsm_certify_plan(b, s, false);
        // skip this sample's remaining rows
        while (r + 1 < ch.ex_sample.size() && ch.ex_of[r + 1] == k) ++r;
    }
}

/// The certified grid scan (FgsmOptions::grid.certify): for each sample in `todo`, the first
/// grid index whose candidate is adversarial (0 = none), exactly as the brute-force scan
/// finds it, and the epsilon intervals certified clean on the way. Segments of the grid
/// are bounded (FgsmCertifier) in rounds, batched over up to certify.chunk samples; a
/// certified segment is skipped, a failed one is shrunk, and runs of a few points next to
/// a predicted flip are evaluated through the network. The segment widths follow the
/// linearized margin of the last bound (see fgsm_certify_plan). A sample's scan (and the
/// work it takes) does not depend on the other samples; the answer does not depend on what
/// got certified: a certified point is clean, and every other point before the hit was
/// evaluated.
template <class T>
inline void fgsm_certified_scan(FgsmBatch<T>& b, const std::vector<std::size_t>& todo, std::vector<std::size_t>& hit,
                                std::vector<std::vector<std::pair<double, double>>>& certified)
{
    const FgsmOptions& o = b.o;
    FgsmCertifier<T> cert(b.net, b.x, b.g, b.y, o.bounds, o.max_epsilon, b.net.inference_threads());
    for (std::size_t c0 = 0; c0 < todo.size(); c0 += o.grid.certify.chunk) {
        FgsmCertChunk<T> ch;
        ch.samples.assign(todo.begin() + static_cast<std::ptrdiff_t>(c0),
                          todo.begin() + static_cast<std::ptrdiff_t>(std::min(todo.size(), c0 + o.grid.certify.chunk)));
        cert.prepare(ch.samples);
        ch.st.resize(ch.samples.size());
        for (auto& s : ch.st)
            s.w = o.grid.certify.first == 0 ? std::max<std::size_t>(1, o.steps / 10) : o.grid.certify.first;
        while (fgsm_certify_collect(b, ch)) {
            fgsm_certify_bound(b, cert, ch, certified);
            const std::vector<std::size_t> first_adv = fgsm_certify_evaluate(b, ch);
            fgsm_certify_advance(b, ch, first_adv, hit);
        }
    }
}

}  // namespace detail

/// The signed gradient direction g = sign(dLoss/dx) * (hi - lo) for every input.
template <class T>
inline matrix<T> fgsm_direction(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                AttackLoss loss = AttackLoss::network, const Bounds& bounds = {})
{
    matrix<T> g = detail::loss_input_gradient(net, x, y, loss);
    const T range = static_cast<T>(bounds.hi - bounds.lo);
    for (auto& v : g) v = v > T(0) ? range : (v < T(0) ? -range : T(0));
    return g;
}

namespace detail {

/// Checks fgsm()'s options, then its inputs (the options first, as their messages say which is wrong).
template <class T>
inline void fgsm_check(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y, const FgsmOptions& o)
{
    o.validate();
    check_attack_inputs(net, x, y, o.bounds, "fgsm");
}

/// Scan state of one sample: next grid index to test (1-based), first adversarial index found.
struct FgsmState {
    std::size_t next = 1;
    std::size_t hit = 0;    ///< first adversarial grid index (0 = none yet)
    std::size_t chunk = 8;  ///< grid points tested per round, doubling up to 64
    bool done = false;
};

/// What a search mode found: per sample the minimal epsilon (+inf = none) and the queries spent.
struct FgsmFound {
    std::vector<double> epsilon;
    std::vector<std::size_t> queries;
};

/// Initial scan states: samples not attempted (misclassified) are done from the start.
template <class T>
inline std::vector<FgsmState> fgsm_start_states(const AttackResult<T>& result)
{
    std::vector<FgsmState> state(result.samples.size());
    for (std::size_t i = 0; i < state.size(); ++i) state[i].done = !result.samples[i].attempted;
    return state;
}

/// Certified grid scan of the samples not done (fgsm_certified_scan): sets every hit and marks all done.
template <class T>
inline void fgsm_certified_hits(FgsmBatch<T>& b, std::vector<FgsmState>& state,
                                std::vector<std::vector<std::pair<double, double>>>& certified)
{
    const std::size_t n = state.size();
    std::vector<std::size_t> todo, hits(n, 0);
    for (std::size_t i = 0; i < n; ++i)
        if (!state[i].done) todo.push_back(i);
    fgsm_certified_scan(b, todo, hits, certified);
    for (std::size_t i = 0; i < n; ++i) {
        state[i].hit = hits[i];
        state[i].done = true;
    }
}

/// Scans every stride-th grid point of the samples not done, in growing chunks per sample,
/// until each has a hit or reaches the end of the grid.
template <class T>
inline void fgsm_scan(FgsmBatch<T>& b, std::vector<FgsmState>& state, std::size_t stride)
{
    const std::size_t n = state.size(), steps = b.o.steps;
    auto record = [&](std::size_t si, std::size_t k, bool adv) {
        if (adv && (state[si].hit == 0 || k < state[si].hit)) state[si].hit = k;
    };
    for (std::size_t i = 0; i < n; ++i) state[i].next = std::min(stride, steps);
    for (;;) {
        bool any = false;
        for (std::size_t i = 0; i < n; ++i) {
            FgsmState& s = state[i];
            if (s.done) continue;
            any = true;
            std::size_t k = s.next;
            for (std::size_t c = 0; c < s.chunk && k <= steps; ++c) {
                b.push(i, b.grid_eps(k), k);
                k = k == steps ? steps + 1 : std::min(steps, k + stride);
            }
            s.next = k;
            s.chunk = std::min<std::size_t>(64, s.chunk * 2);
            if (b.sample.size() >= b.o.batch_rows) b.flush(record);
        }
        b.flush(record);
        if (!any) break;
        for (std::size_t i = 0; i < n; ++i) {
            FgsmState& s = state[i];
            if (!s.done && (s.hit != 0 || s.next > steps)) s.done = true;
        }
    }
}

/// The scan's answer: epsilon of the first hit (+inf = none), and the grid points scanned up
/// to it (all of them on failure), whatever the batching.
template <class T>
inline FgsmFound fgsm_scan_found(const FgsmBatch<T>& b, const AttackResult<T>& result,
                                 const std::vector<FgsmState>& state, std::size_t stride)
{
    const std::size_t n = state.size();
    FgsmFound f{std::vector<double>(n, std::numeric_limits<double>::infinity()), std::vector<std::size_t>(n, 0)};
    for (std::size_t i = 0; i < n; ++i) {
        if (state[i].hit != 0) {
            f.epsilon[i] = b.grid_eps(state[i].hit);
        }
        f.queries[i] = result.samples[i].attempted ? (state[i].hit != 0 ? state[i].hit : b.o.steps) / stride : 0;
    }
    return f;
}

/// Foolbox refinement: a hit among the first refine_below grid points is replaced by the
/// first adversarial of refine_steps points in (0, hit]; points in `certified` (one list
/// per sample, or none at all) are known clean and skipped.
template <class T>
inline void fgsm_refine(FgsmBatch<T>& b, const std::vector<FgsmState>& state,
                        const std::vector<std::vector<std::pair<double, double>>>& certified, FgsmFound& f)
{
    const std::size_t n = state.size(), refine = b.o.grid.refine_steps;
    const bool certify = !certified.empty();
    std::vector<std::size_t> best(n, 0);
    auto record = [&](std::size_t si, std::size_t j, bool adv) {
        if (adv && (best[si] == 0 || j < best[si])) best[si] = j;
    };
    for (std::size_t i = 0; i < n; ++i) {
        if (state[i].hit == 0 || state[i].hit > b.o.grid.refine_below) continue;
        const double top = f.epsilon[i];
        for (std::size_t j = 1; j <= refine; ++j) {
            const double e = top * static_cast<double>(j) / static_cast<double>(refine);
            auto covers = [e](const std::pair<double, double>& s) { return s.first <= e && e <= s.second; };
            if (certify && std::any_of(certified[i].begin(), certified[i].end(), covers)) continue;  // proven clean
            b.push(i, e, j);
        }
        f.queries[i] += refine;
        if (b.sample.size() >= b.o.batch_rows) b.flush(record);
    }
    b.flush(record);
    for (std::size_t i = 0; i < n; ++i) {
        if (best[i] != 0) {
            f.epsilon[i] = f.epsilon[i] * static_cast<double>(best[i]) / static_cast<double>(refine);
        }
    }
}

/// FgsmSearch::grid: the first adversarial grid point (certified scan when FgsmOptions::grid.certify
/// and the bound applies, else brute force), refined on a finer grid near zero.
template <class T>
inline FgsmFound fgsm_grid(FgsmBatch<T>& b, const AttackResult<T>& result)
{
    std::vector<FgsmState> state = fgsm_start_states(result);
    const bool certify = b.o.grid.certify.enabled && FgsmCertifier<T>::applicable(b.net, b.o.bounds);
    std::vector<std::vector<std::pair<double, double>>> certified(certify ? b.size() : 0);
    if (certify) fgsm_certified_hits(b, state, certified);
    fgsm_scan(b, state, 1);  // a no-op after the certified scan (every sample is done)
    FgsmFound f = fgsm_scan_found(b, result, state, 1);
    fgsm_refine(b, state, certified, f);
    return f;
}

/// FgsmSearch::bisection: scan every bisection.stride-th grid point, then bisect between the
/// last clean grid point and the first adversarial one (bisection.iterations halvings).
template <class T>
inline FgsmFound fgsm_bisection(FgsmBatch<T>& b, const AttackResult<T>& result)
{
    const std::size_t n = b.size(), stride = b.o.bisection.stride;
    std::vector<FgsmState> state = fgsm_start_states(result);
    fgsm_scan(b, state, stride);
    FgsmFound f = fgsm_scan_found(b, result, state, stride);
    std::vector<double> lo(n, 0.0), hi(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        if (state[i].hit == 0) continue;
        hi[i] = f.epsilon[i];
        lo[i] = state[i].hit > stride ? b.grid_eps(state[i].hit - stride) : 0.0;
    }
    for (std::size_t it = 0; it < b.o.bisection.iterations; ++it) {
        for (std::size_t i = 0; i < n; ++i) {
            if (state[i].hit == 0) continue;
            b.push(i, 0.5 * (lo[i] + hi[i]), 0);
            ++f.queries[i];
        }
        std::size_t r = 0;
        const std::vector<double> mids = b.eps;
        b.flush([&](std::size_t si, std::size_t, bool adv) { (adv ? hi[si] : lo[si]) = mids[r++]; });
    }
    for (std::size_t i = 0; i < n; ++i)
        if (state[i].hit != 0) f.epsilon[i] = hi[i];
    return f;
}

/// Writes what a search found into result (adversarial rows clip(x + eps g), epsilon,
/// iterations) and re-verifies every success (verify_result).
template <class T>
inline void fgsm_finish(const FgsmBatch<T>& b, const FgsmFound& f, AttackResult<T>& result)
{
    const std::size_t d = b.x.shape()[1];
    for (std::size_t i = 0; i < result.samples.size(); ++i) {
        auto& s = result.samples[i];
        s.iterations = f.queries[i];
        if (!s.attempted) continue;
        if (std::isfinite(f.epsilon[i])) {
            s.success = true;
            s.epsilon = f.epsilon[i];
            T* row = result.adversarial.data() + i * d;
            const T* x0 = b.x.data() + i * d;
            const T* gr = b.g.data() + i * d;
            const T e = static_cast<T>(f.epsilon[i]);
            const T blo = static_cast<T>(b.o.bounds.lo), bhi = static_cast<T>(b.o.bounds.hi);
            for (std::size_t j = 0; j < d; ++j) row[j] = std::min(bhi, std::max(blo, x0[j] + e * gr[j]));
        } else {
            s.epsilon = std::numeric_limits<double>::infinity();
        }
    }
    verify_result(b.net, b.x, result, b.o.bounds);
}

}  // namespace detail

/// Minimal-epsilon FGSM on every row of x; the result carries the work it took (FgsmStats).
template <class T>
inline FgsmResult<T> fgsm(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                          const FgsmOptions& options = {})
{
    detail::fgsm_check(net, x, y, options);
    FgsmResult<T> result{detail::start_result(net, x, y, "fgsm"), {}};
    if (x.shape()[0] == 0) return result;
    const matrix<T> g = fgsm_direction(net, x, y, options.loss, options.bounds);
    detail::FgsmBatch<T> batch(net, x, g, y, options, result.stats);
    const detail::FgsmFound found =
        options.search == FgsmSearch::grid ? detail::fgsm_grid(batch, result) : detail::fgsm_bisection(batch, result);
    detail::fgsm_finish(batch, found, result);
    return result;
}

}  // namespace sleepnet

// The accuracy-versus-epsilon curves (fgsm_accuracy_curve, fgsm_curve) have their own header;
// it is included here so that code including only this one keeps finding them.
#include "fgsm_curve.hpp"
