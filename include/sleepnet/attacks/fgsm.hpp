#pragma once
// FGSM with minimal epsilon, and accuracy-versus-epsilon curves.
//
// Minimal epsilon (Foolbox v1/v2 GradientSignAttack, the paper's FGSM score):
//   g = sign(d loss(x0, y) / dx) * (hi - lo), computed once at x0;
//   grid eps_i = max_epsilon * i / steps, i = 1..steps (0.001 .. 1.000 by default);
//   the first i with argmax f(clip(x0 + eps_i g)) != y; if i <= 20 (Foolbox: index < 20)
//   the search repeats once on a finer grid of 20 steps in (0, eps_i] and takes its
//   first adversarial. No adversarial on the grid: failure (epsilon = +inf).
// The grid is the parity mode: the decision may flip back and forth along the ray, and
// the first flip is what counts. FgsmSearch::bisection is a faster extra mode that
// assumes one flip: it scans every bisection_stride-th grid point, then bisects between
// the last clean and the first adversarial one (bisection_iterations halvings), so it
// returns an epsilon between grid points and may miss a flip that reverts within a
// stride.
//
// Candidates are evaluated in batches through DenseNetwork::logits, whose results do not
// depend on the batch, so the answer for a sample is the same whatever else is attacked
// with it.
//
// FgsmOptions::certify (default on) makes the grid mode skip the grid points a sound
// bound proves clean (attacks/fgsm_certify.hpp): whole segments of the ray are certified
// at once, and only the points next to a decision change go through the network. The
// results (epsilon, success, adversarial, iterations) are those of the brute-force scan
// (certify = false), bit for bit; only the work differs. Networks or bounds the bound
// does not cover (bounds not exact in T) use the brute force.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../nn/dense_network.hpp"
#include "common.hpp"
#include "fgsm_certify.hpp"

namespace sleepnet {

enum class FgsmSearch { grid, bisection };

/// Work done by fgsm() (filled when FgsmOptions::stats is set; adds to what is there).
struct FgsmStats {
    std::size_t bounds = 0;          ///< certified grid: segment bounds computed
    std::size_t certified = 0;       ///< certified grid: segments certified clean
    std::size_t evaluations = 0;     ///< candidate rows evaluated through the network
};

struct FgsmOptions {
    FgsmSearch search = FgsmSearch::grid;
    std::size_t steps = 1000;        ///< grid points in (0, max_epsilon]
    double max_epsilon = 1.0;
    std::size_t refine_steps = 20;   ///< finer grid when the first hit is among the first refine_below points
    std::size_t refine_below = 20;
    std::size_t bisection_stride = 10;      ///< bisection: coarse scan every this many grid points
    std::size_t bisection_iterations = 12;  ///< bisection: halvings of the bracket
    AttackLoss loss = AttackLoss::network;
    Bounds bounds;
    std::size_t batch_rows = 4096;   ///< candidate rows evaluated per logits() call (memory bound only)
    /// grid mode: skip grid points that a sound bound proves clean (same results as the
    /// brute-force scan, far fewer network evaluations); false = evaluate every point
    bool certify = true;
    std::size_t certify_leaf = 2;    ///< certified grid: runs of at most this many points are evaluated directly
    std::size_t certify_chunk = 2048;  ///< certified grid: samples handled together (memory ~ 20 kB each)
    double certify_reach = 0.8;      ///< certified grid: next segment = this fraction of the predicted distance to a flip
    std::size_t certify_first = 0;   ///< certified grid: width of the first segment (0 = steps / 10)
    FgsmStats* stats = nullptr;      ///< optional work counters

    void validate() const
    {
        if (steps == 0) throw invalid_argument("FgsmOptions: steps must be > 0");
        if (!(max_epsilon > 0.0) || !std::isfinite(max_epsilon))
            throw invalid_argument("FgsmOptions: max_epsilon must be finite and > 0, got " + std::to_string(max_epsilon));
        if (batch_rows == 0) throw invalid_argument("FgsmOptions: batch_rows must be > 0");
        if (refine_steps == 0) throw invalid_argument("FgsmOptions: refine_steps must be > 0");
        if (bisection_stride == 0) throw invalid_argument("FgsmOptions: bisection_stride must be > 0");
        if (certify_leaf == 0) throw invalid_argument("FgsmOptions: certify_leaf must be > 0");
        if (certify_chunk == 0) throw invalid_argument("FgsmOptions: certify_chunk must be > 0");
        if (!(certify_reach > 0.0 && certify_reach <= 1.0))
            throw invalid_argument("FgsmOptions: certify_reach must be in (0, 1], got " + std::to_string(certify_reach));
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

/// Which candidate rows are adversarial: DenseNetwork::predict (argmax of the logits,
/// first index on ties) != label of their sample. `st` is scratch, reused between calls.
template <class T>
inline std::vector<char> fgsm_adversarial(const DenseNetwork<T>& net, const ScratchMatrix<T>& cand,
                                          const std::vector<std::size_t>& sample, const label_vector& y,
                                          ExactState<T>& st)
{
    const std::size_t rows = sample.size(), c = net.output_size(), d = net.input_size();
    std::vector<char> adv(rows);
    // in chunks of inference_chunk rows, as predict() (activations stay in cache)
    for (std::size_t r0 = 0; r0 < rows; r0 += detail::inference_chunk) {
        const std::size_t n = std::min(rows - r0, detail::inference_chunk);
        net.exact_forward(cand.data() + r0 * d, n, st);
        const T* z = st.zt.back().data();  // c x n
        for (std::size_t r = 0; r < n; ++r) {
            std::size_t best = 0;
            for (std::size_t k = 1; k < c; ++k)
                if (z[best * n + r] < z[k * n + r]) best = k;  // as std::max_element in predict()
            adv[r0 + r] = best != y(sample[r0 + r]) ? 1 : 0;
        }
    }
    return adv;
}

/// The certified grid scan (FgsmOptions::certify): for each sample in `todo`, the first
/// grid index whose candidate is adversarial (0 = none), exactly as the brute-force scan
/// finds it, and the epsilon intervals certified clean on the way. Segments of the grid
/// are bounded (FgsmCertifier) in rounds, batched over up to certify_chunk samples; a
/// certified segment is skipped, a failed one is shrunk, and runs of a few points next to
/// a predicted flip are evaluated through the network. The segment widths follow the
/// linearized margin of the last bound (see `plan`). A sample's scan (and the work it
/// takes) does not depend on the other samples; the answer does not depend on what got
/// certified: a certified point is clean, and every other point before the hit was
/// evaluated.
template <class T>
inline void fgsm_certified_scan(const DenseNetwork<T>& net, const matrix<T>& x, const matrix<T>& g,
                                const label_vector& y, const FgsmOptions& o, const std::vector<std::size_t>& todo,
                                std::vector<std::size_t>& hit,
                                std::vector<std::vector<std::pair<double, double>>>& certified)
{
    const std::size_t steps = o.steps;
    const double step = o.max_epsilon / static_cast<double>(steps);
    auto grid_eps = [&](std::size_t k) { return step * static_cast<double>(k); };
    const std::size_t leaf = o.certify_leaf;
    struct St {
        std::size_t f = 1;       // next grid index not known to be clean
        std::size_t w = 0;       // width of the next segment (grid points)
        std::size_t leaves = 0;  // consecutive clean leaf runs
        double pred = 0.0;       // predicted crossing of the last bound
        bool exact = false;      // evaluate the next w points directly
        bool done = false;
    };
    FgsmCertifier<T> cert(net, x, g, y, o.bounds, o.max_epsilon, net.inference_threads());
    for (std::size_t c0 = 0; c0 < todo.size(); c0 += o.certify_chunk) {
        const std::vector<std::size_t> samples(todo.begin() + static_cast<std::ptrdiff_t>(c0),
                                               todo.begin() + static_cast<std::ptrdiff_t>(
                                                                  std::min(todo.size(), c0 + o.certify_chunk)));
        cert.prepare(samples);
        std::vector<St> st(samples.size());
        // the next step of a sample from the predicted flip of its last bound: a segment that
        // stops short of it (certify_reach of the way, and at least 2 points before), or,
        // when that would be at most certify_leaf points, the points up to just past it
        auto plan = [&](St& s, bool failed) {
            const double dist = std::isinf(s.pred) ? 1e18 : (s.pred - grid_eps(s.f)) / step;
            if (dist < -0.5) {  // the flip was predicted behind us
                if (failed) {
                    s.w = leaf;  // evaluate (always makes progress)
                    s.exact = true;
                } else {
                    s.w = leaf << std::min<std::size_t>(s.leaves, 20);  // grow after clean runs
                }
                return;
            }
            const double want = std::min(o.certify_reach * dist, dist - 2.0);
            if (want <= static_cast<double>(leaf)) {
                s.w = std::max<std::size_t>(leaf, static_cast<std::size_t>(dist) + 2);
                s.exact = true;
            } else if (failed && want >= static_cast<double>(s.w)) {
                s.w /= 2;
            } else {
                s.w = static_cast<std::size_t>(std::min(1e9, want));
            }
        };
        for (auto& s : st) s.w = o.certify_first == 0 ? std::max<std::size_t>(1, steps / 10) : o.certify_first;
        std::vector<typename FgsmCertifier<T>::Segment> segs;
        std::vector<std::size_t> seg_of;
        std::vector<typename FgsmCertifier<T>::Bound> bnds;
        std::vector<std::size_t> ex_sample, ex_index, ex_of;
        std::vector<double> ex_eps;
        ScratchMatrix<T> cand;
        ExactState<T> st_eval;
        for (;;) {
            segs.clear();
            seg_of.clear();
            ex_sample.clear();
            ex_index.clear();
            ex_eps.clear();
            ex_of.clear();
            for (std::size_t k = 0; k < samples.size(); ++k) {
                St& s = st[k];
                if (s.done) continue;
                const std::size_t left = steps - s.f + 1;
                s.w = std::max<std::size_t>(1, std::min(s.w, left));
                if (s.w <= leaf || s.exact) {
                    s.exact = false;
                    for (std::size_t i = 0; i < s.w; ++i) {
                        ex_sample.push_back(samples[k]);
                        ex_index.push_back(s.f + i);
                        ex_eps.push_back(grid_eps(s.f + i));
                        ex_of.push_back(k);
                    }
                } else {
                    segs.push_back({samples[k], grid_eps(s.f), grid_eps(s.f + s.w - 1)});
                    seg_of.push_back(k);
                }
            }
            if (segs.empty() && ex_sample.empty()) break;
            cert.bound(segs, bnds);
            if (o.stats) o.stats->bounds += segs.size();
            for (std::size_t q = 0; q < segs.size(); ++q) {
                St& s = st[seg_of[q]];
                const bool ok = bnds[q].lower > 0.0;
                s.pred = bnds[q].crossing;
                if (ok) {
                    certified[segs[q].sample].emplace_back(segs[q].a, segs[q].b);
                    if (o.stats) ++o.stats->certified;
                    s.f += s.w;
                    s.leaves = 0;
                    if (s.f > steps) {
                        s.done = true;
                        continue;
                    }
                }
                plan(s, !ok);
            }
            // exact evaluations, in batches of batch_rows
            std::vector<std::size_t> first_adv(samples.size(), 0);
            for (std::size_t b0 = 0; b0 < ex_sample.size(); b0 += o.batch_rows) {
                const std::size_t b1 = std::min(ex_sample.size(), b0 + o.batch_rows);
                const std::vector<std::size_t> bs(ex_sample.begin() + static_cast<std::ptrdiff_t>(b0),
                                                  ex_sample.begin() + static_cast<std::ptrdiff_t>(b1));
                const std::vector<double> be(ex_eps.begin() + static_cast<std::ptrdiff_t>(b0),
                                             ex_eps.begin() + static_cast<std::ptrdiff_t>(b1));
                fgsm_candidates(x, g, bs, be, o.bounds, cand);
                const auto adv = fgsm_adversarial(net, cand, bs, y, st_eval);
                if (o.stats) o.stats->evaluations += bs.size();
                for (std::size_t r = 0; r < bs.size(); ++r) {
                    const std::size_t k = ex_of[b0 + r];
                    if (adv[r] && (first_adv[k] == 0 || ex_index[b0 + r] < first_adv[k])) first_adv[k] = ex_index[b0 + r];
                }
            }
            for (std::size_t r = 0; r < ex_sample.size(); ++r) {
                const std::size_t k = ex_of[r];
                St& s = st[k];
                if (s.done) continue;
                if (first_adv[k] != 0) {
                    hit[samples[k]] = first_adv[k];
                    s.done = true;
                    continue;
                }
                // all of this sample's points were clean (handled once, at its first row)
                s.f += s.w;
                ++s.leaves;
                if (s.f > steps) s.done = true;
                else plan(s, false);
                // skip this sample's remaining rows
                while (r + 1 < ex_sample.size() && ex_of[r + 1] == k) ++r;
            }
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

/// Minimal-epsilon FGSM on every row of x.
template <class T>
inline AttackResult<T> fgsm(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                            const FgsmOptions& options = {})
{
    options.validate();
    detail::check_attack_inputs(net, x, y, options.bounds, "fgsm");
    AttackResult<T> result = detail::start_result(net, x, y, "fgsm");
    const std::size_t n = x.shape()[0];
    if (n == 0) return result;
    const matrix<T> g = fgsm_direction(net, x, y, options.loss, options.bounds);
    const std::size_t d = x.shape()[1];

    // per sample: next grid index to test (1-based), found index, state
    struct State {
        std::size_t next = 1;
        std::size_t hit = 0;       // first adversarial grid index (0 = none yet)
        std::size_t chunk = 8;     // grid points tested per round, doubling up to 64
        bool done = false;
    };
    std::vector<State> state(n);
    for (std::size_t i = 0; i < n; ++i) state[i].done = !result.samples[i].attempted;
    const double step = options.max_epsilon / static_cast<double>(options.steps);
    auto grid_eps = [&](std::size_t k) { return step * static_cast<double>(k); };

    std::vector<std::size_t> sample;
    std::vector<double> eps;
    std::vector<std::size_t> index;
    ScratchMatrix<T> cand;
    ExactState<T> st_eval;
    auto flush = [&](auto&& on_result) {
        if (sample.empty()) return;
        detail::fgsm_candidates(x, g, sample, eps, options.bounds, cand);
        const auto adv = detail::fgsm_adversarial(net, cand, sample, y, st_eval);
        if (options.stats) options.stats->evaluations += sample.size();
        for (std::size_t r = 0; r < sample.size(); ++r) on_result(sample[r], index[r], adv[r] != 0);
        sample.clear();
        eps.clear();
        index.clear();
    };

    // 1. scan of the grid (every stride-th point for bisection), in growing chunks per sample
    const std::size_t stride = options.search == FgsmSearch::bisection ? options.bisection_stride : 1;
    const bool certify = options.search == FgsmSearch::grid && options.certify &&
                         detail::FgsmCertifier<T>::applicable(net, options.bounds);
    std::vector<std::vector<std::pair<double, double>>> certified(certify ? n : 0);
    if (certify) {
        std::vector<std::size_t> todo, hits(n, 0);
        for (std::size_t i = 0; i < n; ++i)
            if (!state[i].done) todo.push_back(i);
        detail::fgsm_certified_scan(net, x, g, y, options, todo, hits, certified);
        for (std::size_t i = 0; i < n; ++i) {
            state[i].hit = hits[i];
            state[i].done = true;
        }
    }
    for (std::size_t i = 0; i < n; ++i) state[i].next = std::min(stride, options.steps);
    for (;;) {
        bool any = false;
        for (std::size_t i = 0; i < n; ++i) {
            State& s = state[i];
            if (s.done) continue;
            any = true;
            std::size_t k = s.next;
            for (std::size_t c = 0; c < s.chunk && k <= options.steps; ++c) {
                sample.push_back(i);
                eps.push_back(grid_eps(k));
                index.push_back(k);
                k = k == options.steps ? options.steps + 1 : std::min(options.steps, k + stride);
            }
            s.next = k;
            s.chunk = std::min<std::size_t>(64, s.chunk * 2);
            if (sample.size() >= options.batch_rows) {
                flush([&](std::size_t si, std::size_t k, bool adv) {
                    if (adv && (state[si].hit == 0 || k < state[si].hit)) state[si].hit = k;
                });
            }
        }
        flush([&](std::size_t si, std::size_t k, bool adv) {
            if (adv && (state[si].hit == 0 || k < state[si].hit)) state[si].hit = k;
        });
        if (!any) break;
        for (std::size_t i = 0; i < n; ++i) {
            State& s = state[i];
            if (!s.done && (s.hit != 0 || s.next > options.steps)) s.done = true;
        }
    }

    // 2. refinement (grid) or bisection
    std::vector<double> found(n, std::numeric_limits<double>::infinity());
    std::vector<std::size_t> queries(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        if (state[i].hit != 0) {
            found[i] = grid_eps(state[i].hit);
        }
        // grid points scanned up to the first hit (all of them on failure), whatever the batching
        queries[i] = result.samples[i].attempted ? (state[i].hit != 0 ? state[i].hit : options.steps) / stride : 0;
    }
    if (options.search == FgsmSearch::grid) {
        std::vector<std::size_t> best(n, 0);
        for (std::size_t i = 0; i < n; ++i) {
            if (state[i].hit == 0 || state[i].hit > options.refine_below) continue;
            const double top = found[i];
            for (std::size_t j = 1; j <= options.refine_steps; ++j) {
                const double e = top * static_cast<double>(j) / static_cast<double>(options.refine_steps);
                if (certify && std::any_of(certified[i].begin(), certified[i].end(),
                                           [e](const std::pair<double, double>& s) { return s.first <= e && e <= s.second; }))
                    continue;  // proven clean
                sample.push_back(i);
                eps.push_back(e);
                index.push_back(j);
            }
            queries[i] += options.refine_steps;
            if (sample.size() >= options.batch_rows) {
                flush([&](std::size_t si, std::size_t j, bool adv) {
                    if (adv && (best[si] == 0 || j < best[si])) best[si] = j;
                });
            }
        }
        flush([&](std::size_t si, std::size_t j, bool adv) {
            if (adv && (best[si] == 0 || j < best[si])) best[si] = j;
        });
        for (std::size_t i = 0; i < n; ++i) {
            if (best[i] != 0) {
                found[i] = found[i] * static_cast<double>(best[i]) / static_cast<double>(options.refine_steps);
            }
        }
    } else {
        // bisection between the last clean grid point and the first adversarial one
        std::vector<double> lo(n, 0.0), hi(n, 0.0);
        for (std::size_t i = 0; i < n; ++i) {
            if (state[i].hit == 0) continue;
            hi[i] = found[i];
            lo[i] = state[i].hit > stride ? grid_eps(state[i].hit - stride) : 0.0;
        }
        for (std::size_t it = 0; it < options.bisection_iterations; ++it) {
            for (std::size_t i = 0; i < n; ++i) {
                if (state[i].hit == 0) continue;
                sample.push_back(i);
                eps.push_back(0.5 * (lo[i] + hi[i]));
                index.push_back(0);
                ++queries[i];
            }
            std::size_t r = 0;
            std::vector<double> mids = eps;
            flush([&](std::size_t si, std::size_t, bool adv) {
                (adv ? hi[si] : lo[si]) = mids[r++];
            });
        }
        for (std::size_t i = 0; i < n; ++i)
            if (state[i].hit != 0) found[i] = hi[i];
    }

    // 3. write the adversarials and verify them
    for (std::size_t i = 0; i < n; ++i) {
        auto& s = result.samples[i];
        s.iterations = queries[i];
        if (!s.attempted) continue;
        if (std::isfinite(found[i])) {
            s.success = true;
            s.epsilon = found[i];
            T* row = result.adversarial.data() + i * d;
            const T* x0 = x.data() + i * d;
            const T* gr = g.data() + i * d;
            const T e = static_cast<T>(found[i]);
            const T blo = static_cast<T>(options.bounds.lo), bhi = static_cast<T>(options.bounds.hi);
            for (std::size_t j = 0; j < d; ++j) row[j] = std::min(bhi, std::max(blo, x0[j] + e * gr[j]));
        } else {
            s.epsilon = std::numeric_limits<double>::infinity();
        }
    }
    detail::verify_result(net, x, result, options.bounds);
    return result;
}

/// Accuracy on x' = clip(x + eps * sign(gradient)) for each eps (the authors' curves use
/// eps = 0 : 0.005 : 0.4). Every input counts (misclassified ones stay in the
/// denominator), as in the paper's accuracy plots.
template <class T>
inline std::vector<double> fgsm_accuracy_curve(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                               const std::vector<double>& epsilons,
                                               AttackLoss loss = AttackLoss::network, const Bounds& bounds = {})
{
    detail::check_attack_inputs(net, x, y, bounds, "fgsm_accuracy_curve");
    const matrix<T> g = fgsm_direction(net, x, y, loss, bounds);
    std::vector<double> acc;
    const std::size_t n = x.shape()[0];
    std::vector<std::size_t> all(n);
    for (std::size_t i = 0; i < n; ++i) all[i] = i;
    matrix<T> cand;
    for (double e : epsilons) {
        if (!(e >= 0.0) || !std::isfinite(e)) {
            throw invalid_argument("fgsm_accuracy_curve: epsilon must be finite and >= 0, got " + std::to_string(e));
        }
        std::vector<double> eps(n, e);
        detail::fgsm_candidates(x, g, all, eps, bounds, cand);
        const label_vector p = net.predict(cand);
        std::size_t correct = 0;
        for (std::size_t i = 0; i < n; ++i) correct += p(i) == y(i) ? 1 : 0;
        acc.push_back(n == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(n));
    }
    return acc;
}

}  // namespace sleepnet
