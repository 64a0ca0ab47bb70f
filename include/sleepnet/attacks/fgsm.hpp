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

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../nn/dense_network.hpp"
#include "common.hpp"

namespace sleepnet {

enum class FgsmSearch { grid, bisection };

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

    void validate() const
    {
        if (steps == 0) throw invalid_argument("FgsmOptions: steps must be > 0");
        if (!(max_epsilon > 0.0) || !std::isfinite(max_epsilon))
            throw invalid_argument("FgsmOptions: max_epsilon must be finite and > 0, got " + std::to_string(max_epsilon));
        if (batch_rows == 0) throw invalid_argument("FgsmOptions: batch_rows must be > 0");
        if (refine_steps == 0) throw invalid_argument("FgsmOptions: refine_steps must be > 0");
        if (bisection_stride == 0) throw invalid_argument("FgsmOptions: bisection_stride must be > 0");
    }
};

namespace detail {

/// Rows clip(x0 + eps * g) for the given (sample, eps) pairs.
template <class T>
inline void fgsm_candidates(const matrix<T>& x, const matrix<T>& g, const std::vector<std::size_t>& sample,
                            const std::vector<double>& eps, const Bounds& b, matrix<T>& out)
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

/// Which candidate rows are adversarial (prediction != label of their sample).
template <class T>
inline std::vector<char> fgsm_adversarial(const DenseNetwork<T>& net, const matrix<T>& cand,
                                          const std::vector<std::size_t>& sample, const label_vector& y)
{
    const label_vector p = net.predict(cand);
    std::vector<char> adv(sample.size());
    for (std::size_t r = 0; r < sample.size(); ++r) adv[r] = p(r) != y(sample[r]) ? 1 : 0;
    return adv;
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
    matrix<T> cand;
    auto flush = [&](auto&& on_result) {
        if (sample.empty()) return;
        detail::fgsm_candidates(x, g, sample, eps, options.bounds, cand);
        const auto adv = detail::fgsm_adversarial(net, cand, sample, y);
        for (std::size_t r = 0; r < sample.size(); ++r) on_result(sample[r], index[r], adv[r] != 0);
        sample.clear();
        eps.clear();
        index.clear();
    };

    // 1. scan of the grid (every stride-th point for bisection), in growing chunks per sample
    const std::size_t stride = options.search == FgsmSearch::bisection ? options.bisection_stride : 1;
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
                sample.push_back(i);
                eps.push_back(top * static_cast<double>(j) / static_cast<double>(options.refine_steps));
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
