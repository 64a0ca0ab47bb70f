#pragma once
// Jacobian-based saliency map attack (JSMA; Papernot et al. 2016), as the paper uses it:
// theta = 0.1, at most 500 iterations, a pixel leaves the search domain after 7 changes.
//
//   auto r = sleepnet::jsma(net, x, y);               // single-pixel variant (default)
//   opts.variant = sleepnet::JsmaOptions::Variant::pairs;  // Papernot's pixel pairs
//
// Semantics (per correctly classified input x0 with label y):
// - target t = the class with the highest logit other than y at x0 (the second-highest
//   output, as in the authors' code), first index on ties;
// - per iteration, at the current point x: Z = logits (the deterministic pass), and
//     alpha_j = dZ_t / dx_j,   beta_j = sum_{k != t} dZ_k / dx_j
//   (two backward passes of the deterministic path, seeded with e_t and 1 - e_t: the
//   target row of the logits Jacobian and the sum of its other rows, without computing
//   the other rows one by one);
// - single variant: a pixel j is admissible when it is active, alpha_j and beta_j are
//   non-zero with opposite signs, and x_j can move in the direction dir = sign(alpha_j)
//   (x_j < hi for dir = +1, x_j > lo for dir = -1). The admissible pixel with the largest
//   |alpha_j| * |beta_j| is chosen (Papernot's saliency for increasing or decreasing a
//   feature). Fallback when no pixel is admissible: the active pixel with the largest
//   |alpha_j - beta_j| among those that can move in direction sign(alpha_j - beta_j),
//   moved that way (the direction that raises Z_t - sum of the others; Foolbox's fast
//   mode likewise ranks pixels by a single gradient of the target loss);
// - pairs variant: the same on pixel pairs p < q, with A = alpha_p + alpha_q and
//   B = beta_p + beta_q, both pixels moved in direction sign(A); score |A| * |B|.
//   Fallback: the two active pixels with the largest (alpha - beta) * dir > 0 for the
//   better direction (one pixel when only one qualifies);
// - inactive (masked) pixels are excluded outright, never scored 0 (a CleverHans bug
//   let a masked pixel with score 0 win forever); ties go to the lowest pixel index
//   (lowest p, then q);
// - a chosen pixel moves by theta * (hi - lo) in its direction; every pixel value is
//   kept as clip(x0_j + m_j * theta * (hi - lo)) with an integer net step count m_j, so
//   changes are exact multiples of theta unless clipped; a pixel leaves the search
//   domain after max_changes_per_pixel changes or when a change brings it to a bound
//   (Foolbox). Pixels that start at a bound stay active but can only move inwards;
// - stop when the prediction differs from y (success), after max_iterations changes, or
//   when no pixel can be chosen (the attack failed);
// - AttackSample::iterations = the number of iterations used (changes applied; a pair
//   counts as one iteration).
//
// Callbacks (core/callbacks.hpp): on_step(const JsmaStep<T>&) is called after every
// iteration of every input (once the chosen pixels are changed); returning true stops that
// input: it succeeds if its current point is adversarial, else it fails.
//
// All inputs still running (at most 1,024; an input that ends is replaced by the next
// one) are stepped together: one deterministic forward pass and two backward passes per
// iteration for the whole batch. Every quantity a sample's choice
// depends on is computed per sample by the batch-independent path, so the result of an
// input does not depend on which other inputs are attacked with it, nor on the thread
// count. No random numbers are used.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "../core/enum_names.hpp"
#include "../core/callbacks.hpp"
#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../detail/exact_gemm.hpp"
#include "../nn/dense_network.hpp"
#include "common.hpp"

namespace sleepnet {

struct JsmaOptions {
    double theta = 0.1;                     ///< change per step, relative to hi - lo
    std::size_t max_iterations = 500;       ///< iterations (changes) per input
    std::size_t max_changes_per_pixel = 7;  ///< a pixel leaves the search domain after this many changes
    enum class Variant { single, pairs } variant = Variant::single;
    Bounds bounds;
};

/// What on_step callbacks see after each iteration.
template <class T>
struct JsmaStep {
    std::size_t sample = 0;                                   ///< row of the input matrix
    std::size_t iteration = 0;                                ///< 1, 2, ... (iterations used so far)
    std::size_t target = 0;                                   ///< the target class
    std::size_t pixel = 0;                                    ///< the pixel changed
    std::size_t second_pixel = static_cast<std::size_t>(-1);  ///< pairs: the other pixel; else -1
    int direction = 0;                                        ///< +1 increased, -1 decreased
    const T* point = nullptr;                                 ///< the current point (size values)
    const std::uint8_t* active = nullptr;                     ///< 1 where a pixel is still in the search domain
    std::size_t size = 0;
};

template <>
struct EnumNames<JsmaOptions::Variant> {
    static constexpr const char* kind = "JSMA variant";
    static constexpr EnumName<JsmaOptions::Variant> table[] = {{JsmaOptions::Variant::single, "single"},
                                                               {JsmaOptions::Variant::pairs, "pairs"}};
};

namespace detail {

inline void check_jsma_options(const JsmaOptions& o)
{
    check::finite_positive("jsma", "options.theta", o.theta);
    check::at_least("jsma", "options.max_changes_per_pixel", o.max_changes_per_pixel, 1);
    if (o.max_changes_per_pixel > 127) {
        throw invalid_argument("jsma: options.max_changes_per_pixel must be <= 127, got " +
                               std::to_string(o.max_changes_per_pixel));
    }
    if (o.variant != JsmaOptions::Variant::single && o.variant != JsmaOptions::Variant::pairs) {
        throw invalid_argument("jsma: options.variant is not a known variant");
    }
}

/// The pixels (one or two) and the direction chosen in one JSMA iteration.
struct JsmaChoice {
    static constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::size_t p = none;
    std::size_t q = none;  ///< second pixel of a pair, or none
    int dir = 0;           ///< +1 increase, -1 decrease; 0 when nothing was chosen
};

/// Per-input state of the attack.
struct JsmaPixelState {
    std::vector<std::int8_t> steps;     ///< net number of theta steps per pixel (signed)
    std::vector<std::uint8_t> changes;  ///< changes applied per pixel
    std::vector<std::uint8_t> active;   ///< still in the search domain
};

// can pixel value v move in direction dir within [lo, hi]?
inline bool jsma_movable(double v, int dir, const Bounds& b) { return dir > 0 ? v < b.hi : v > b.lo; }

/// Single variant: the admissible pixel with the largest |alpha| |beta| (else the fallback).
template <class T>
inline JsmaChoice jsma_select_single(const T* x, const T* alpha, const T* beta, const std::uint8_t* active,
                                     std::size_t d, const Bounds& bounds)
{
    JsmaChoice best;
    double best_score = -std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < d; ++j) {
        if (!active[j]) continue;
        const double a = static_cast<double>(alpha[j]);
        const double b = static_cast<double>(beta[j]);
        if (!((a > 0.0 && b < 0.0) || (a < 0.0 && b > 0.0))) continue;
        const int dir = a > 0.0 ? 1 : -1;
        if (!jsma_movable(static_cast<double>(x[j]), dir, bounds)) continue;
        const double s = std::fabs(a) * std::fabs(b);
        if (s > best_score) {
            best_score = s;
            best.p = j;
            best.dir = dir;
        }
    }
    if (best.dir != 0) return best;
    // fallback: largest |alpha - beta| in its own direction
    for (std::size_t j = 0; j < d; ++j) {
        if (!active[j]) continue;
        const double g = static_cast<double>(alpha[j]) - static_cast<double>(beta[j]);
        if (g == 0.0) continue;
        const int dir = g > 0.0 ? 1 : -1;
        if (!jsma_movable(static_cast<double>(x[j]), dir, bounds)) continue;
        const double s = std::fabs(g);
        if (s > best_score) {
            best_score = s;
            best.p = j;
            best.dir = dir;
        }
    }
    return best;
}

/// Pairs fallback: the two best active pixels by (alpha - beta) * dir > 0, for the better direction.
inline JsmaChoice jsma_pairs_fallback(const std::vector<std::size_t>& idx, const std::vector<double>& a,
                                      const std::vector<double>& b, const std::vector<std::uint8_t>& up,
                                      const std::vector<std::uint8_t>& down)
{
    const std::size_t m = idx.size();
    JsmaChoice best;
    double best_score = -std::numeric_limits<double>::infinity();
    for (int dir : {1, -1}) {
        std::size_t f = JsmaChoice::none, s = JsmaChoice::none;
        double fv = 0.0, sv = 0.0;
        for (std::size_t u = 0; u < m; ++u) {
            if (!(dir > 0 ? up[u] : down[u])) continue;
            const double g = (a[u] - b[u]) * dir;
            if (!(g > 0.0)) continue;
            if (f == JsmaChoice::none || g > fv) {
                s = f;
                sv = fv;
                f = u;
                fv = g;
            } else if (s == JsmaChoice::none || g > sv) {
                s = u;
                sv = g;
            }
        }
        if (f == JsmaChoice::none) continue;
        const double total = fv + (s == JsmaChoice::none ? 0.0 : sv);
        if (total > best_score) {
            best_score = total;
            const std::size_t p = idx[f];
            const std::size_t q = s == JsmaChoice::none ? JsmaChoice::none : idx[s];
            best.p = q == JsmaChoice::none ? p : std::min(p, q);
            best.q = q == JsmaChoice::none ? q : std::max(p, q);
            best.dir = dir;
        }
    }
    return best;
}

/// Pairs variant: the admissible pair with the largest |A| |B| (else the fallback); idx..down are scratch.
template <class T>
inline JsmaChoice jsma_select_pairs(const T* x, const T* alpha, const T* beta, const std::uint8_t* active,
                                    std::size_t d, const Bounds& bounds, std::vector<std::size_t>& idx,
                                    std::vector<double>& a, std::vector<double>& b, std::vector<std::uint8_t>& up,
                                    std::vector<std::uint8_t>& down)
{
    // compact list of active pixels
    idx.clear();
    a.clear();
    b.clear();
    up.clear();
    down.clear();
    for (std::size_t j = 0; j < d; ++j) {
        if (!active[j]) continue;
        idx.push_back(j);
        a.push_back(static_cast<double>(alpha[j]));
        b.push_back(static_cast<double>(beta[j]));
        up.push_back(jsma_movable(static_cast<double>(x[j]), 1, bounds) ? 1 : 0);
        down.push_back(jsma_movable(static_cast<double>(x[j]), -1, bounds) ? 1 : 0);
    }
    const std::size_t m = idx.size();
    JsmaChoice best;
    double best_score = -std::numeric_limits<double>::infinity();
    for (std::size_t u = 0; u < m; ++u) {
        const double au = a[u], bu = b[u];
        const bool uu = up[u] != 0, ud = down[u] != 0;
        if (!uu && !ud) continue;
        for (std::size_t v = u + 1; v < m; ++v) {
            const double A = au + a[v];
            const double B = bu + b[v];
            int dir;
            if (A > 0.0 && B < 0.0) {
                if (!uu || !up[v]) continue;
                dir = 1;
            } else if (A < 0.0 && B > 0.0) {
                if (!ud || !down[v]) continue;
                dir = -1;
            } else {
                continue;
            }
            const double s = -A * B;  // = |A| |B| for admissible pairs
            if (s > best_score) {
                best_score = s;
                best.p = idx[u];
                best.q = idx[v];
                best.dir = dir;
            }
        }
    }
    if (best.dir != 0) return best;
    return jsma_pairs_fallback(idx, a, b, up, down);
}

/// Buffers of the batched JSMA iterations, reused across iterations and groups.
template <class T>
struct JsmaBuffers {
    ExactState<T> st;
    matrix<T> batch, seed_t, seed_o, grad_t, grad_o;
    std::vector<std::size_t> idx;  ///< jsma_select_pairs scratch
    std::vector<double> sa, sb;
    std::vector<std::uint8_t> su, sd;
};

/// Target of every input: the highest logit other than its label at the clean input (first on ties).
template <class T>
inline std::vector<std::size_t> jsma_targets(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y)
{
    const std::size_t n = x.shape()[0];
    const std::size_t c = net.output_size();
    std::vector<std::size_t> target(n, 0);
    const matrix<T> z = net.logits(x);
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t t = y(i) == 0 ? 1 : 0;
        for (std::size_t k = 0; k < c; ++k) {
            if (k == y(i)) continue;
            if (z(i, k) > z(i, t)) t = k;
        }
        target[i] = t;
    }
    return target;
}

/// Deterministic forward pass at the current points of the running inputs (rows zero-padded to the kernel tile).
template <class T>
inline void jsma_forward(const DenseNetwork<T>& net, const matrix<T>& points, const std::vector<std::size_t>& running,
                         JsmaBuffers<T>& buf)
{
    constexpr std::size_t pad = 2 * exact_vector_bytes / sizeof(T);
    const std::size_t m = running.size();
    const std::size_t d = points.shape()[1];
    // rows padded (with zeros) to the column tile of the deterministic kernel, which
    // vectorizes along samples and is slow on a ragged tail; results are per sample
    const std::size_t mp = (m + pad - 1) / pad * pad;
    if (buf.batch.shape()[0] != mp || buf.batch.shape()[1] != d) buf.batch.resize({mp, d});
    std::fill(buf.batch.data() + m * d, buf.batch.data() + mp * d, T(0));
    for (std::size_t b = 0; b < m; ++b) {
        const T* src = points.data() + running[b] * d;
        std::copy(src, src + d, buf.batch.data() + b * d);
    }
    net.exact_forward(buf.batch, buf.st);
}

/// Marks adversarial running inputs as successes; go[b] = 1 for those that iterate on. True if any does.
template <class T>
inline bool jsma_unfinished(const ScratchMatrix<T>& zt, std::size_t c, const std::vector<std::size_t>& running,
                            std::size_t max_iterations, AttackResult<T>& r, std::vector<std::uint8_t>& go)
{
    const std::size_t m = running.size();
    go.assign(m, 0);
    bool any = false;
    for (std::size_t b = 0; b < m; ++b) {
        std::size_t pred = 0;
        for (std::size_t k = 1; k < c; ++k) {
            if (zt(k, b) > zt(pred, b)) pred = k;
        }
        auto& smp = r.samples[running[b]];
        if (pred != smp.label) {
            smp.success = true;
        } else if (smp.iterations < max_iterations) {
            go[b] = 1;
            any = true;
        }
    }
    return any;
}

/// alpha (grad_t) and beta (grad_o) of the inputs with go set: backward passes seeded with e_t and 1 - e_t.
template <class T>
inline void jsma_saliency_gradients(const DenseNetwork<T>& net, const std::vector<std::size_t>& running,
                                    const std::vector<std::size_t>& target, const std::vector<std::uint8_t>& go,
                                    JsmaBuffers<T>& buf)
{
    const std::size_t c = net.output_size();
    const std::size_t mp = buf.batch.shape()[0];
    buf.seed_t.resize({mp, c});
    buf.seed_o.resize({mp, c});
    buf.seed_t.fill(T(0));
    buf.seed_o.fill(T(0));
    for (std::size_t b = 0; b < running.size(); ++b) {
        const std::size_t t = target[running[b]];
        for (std::size_t k = 0; k < c; ++k) {
            buf.seed_t(b, k) = go[b] && k == t ? T(1) : T(0);
            buf.seed_o(b, k) = go[b] && k != t ? T(1) : T(0);
        }
    }
    net.exact_backward(buf.st, buf.seed_t, buf.grad_t);
    net.exact_backward(buf.st, buf.seed_o, buf.grad_o);
}

/// Moves the chosen pixels of cur one theta step (exact multiples from x0, clipped); retires exhausted pixels.
template <class T>
inline void jsma_apply(const JsmaChoice& ch, const T* x0, T* cur, JsmaPixelState& s, double step,
                       const JsmaOptions& options)
{
    const Bounds& bounds = options.bounds;
    for (std::size_t j : {ch.p, ch.q}) {
        if (j == JsmaChoice::none) continue;
        s.steps[j] = static_cast<std::int8_t>(s.steps[j] + ch.dir);
        s.changes[j] = static_cast<std::uint8_t>(s.changes[j] + 1);
        const double raw = static_cast<double>(x0[j]) + static_cast<double>(s.steps[j]) * step;
        const double v = std::min(bounds.hi, std::max(bounds.lo, raw));
        cur[j] = static_cast<T>(v);
        if (s.changes[j] >= options.max_changes_per_pixel || raw <= bounds.lo || raw >= bounds.hi) {
            s.active[j] = 0;
        }
    }
}

/// Calls on_step for input i after its latest change; true = the callbacks stop it.
template <class T, class Hooks>
inline bool jsma_report(Hooks& hooks, std::size_t i, std::size_t iteration, std::size_t target, const JsmaChoice& ch,
                        const T* cur, const JsmaPixelState& s, std::size_t d)
{
    JsmaStep<T> info;
    info.sample = i;
    info.iteration = iteration;
    info.target = target;
    info.pixel = ch.p;
    info.second_pixel = ch.q;
    info.direction = ch.dir;
    info.point = cur;
    info.active = s.active.data();
    info.size = d;
    return call_on_step(hooks, info);
}

/// One iteration of input i (row b of the batch): choose, change, report. False when it stops.
template <class T, class Hooks>
inline bool jsma_step_input(const matrix<T>& x, const JsmaOptions& options, double step, std::size_t target,
                            Hooks& hooks, AttackResult<T>& r, JsmaPixelState& s, std::size_t i, std::size_t b,
                            JsmaBuffers<T>& buf)
{
    const std::size_t d = x.shape()[1];
    T* cur = r.adversarial.data() + i * d;
    const T* x0 = x.data() + i * d;
    const T* ga = buf.grad_t.data() + b * d;
    const T* gb = buf.grad_o.data() + b * d;
    const JsmaChoice ch = options.variant == JsmaOptions::Variant::pairs
                              ? jsma_select_pairs(cur, ga, gb, s.active.data(), d, options.bounds, buf.idx, buf.sa,
                                                  buf.sb, buf.su, buf.sd)
                              : jsma_select_single(cur, ga, gb, s.active.data(), d, options.bounds);
    if (ch.dir == 0) return false;  // nothing left to change: failed
    jsma_apply(ch, x0, cur, s, step, options);
    ++r.samples[i].iterations;
    if (jsma_report(hooks, i, r.samples[i].iterations, target, ch, cur, s, d)) {
        r.samples[i].success = true;  // kept only if verify_result confirms it
        return false;
    }
    return true;
}

/// One batched iteration over the running inputs; running becomes the inputs still going. False when none iterated.
template <class T, class Hooks>
inline bool jsma_iteration(const DenseNetwork<T>& net, const matrix<T>& x, const JsmaOptions& options, double step,
                           const std::vector<std::size_t>& target, Hooks& hooks, AttackResult<T>& r,
                           std::vector<JsmaPixelState>& state, std::vector<std::size_t>& running, JsmaBuffers<T>& buf)
{
    jsma_forward(net, r.adversarial, running, buf);
    std::vector<std::uint8_t> go;
    if (!jsma_unfinished(buf.st.zt.back(), net.output_size(), running, options.max_iterations, r, go)) return false;
    jsma_saliency_gradients(net, running, target, go, buf);
    std::vector<std::size_t> next;
    for (std::size_t b = 0; b < running.size(); ++b) {
        if (!go[b]) continue;
        const std::size_t i = running[b];
        if (jsma_step_input(x, options, step, target[i], hooks, r, state[i], i, b, buf)) next.push_back(i);
    }
    running.swap(next);
    return true;
}

}  // namespace detail

/// JSMA on every row of x (N x D) with labels y. See the top of this header for the
/// exact semantics. Throws invalid_argument for bad shapes, labels, bounds, inputs outside
/// the bounds, or options out of range (naming the option).
template <class T, class... Callbacks>
AttackResult<T> jsma(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                     const JsmaOptions& options = {}, Callbacks&&... callbacks)
{
    auto hooks = std::forward_as_tuple(callbacks...);
    detail::check_jsma_options(options);
    const Bounds& bounds = options.bounds;
    detail::check_attack_inputs(net, x, y, bounds, "jsma");
    AttackResult<T> r = detail::start_result(net, x, y, "jsma");
    const std::size_t n = x.shape()[0];
    const std::size_t d = x.shape()[1];
    const std::size_t c = net.output_size();
    if (n == 0) return r;
    if (c < 2) {
        throw invalid_argument("jsma: the network has " + std::to_string(c) + " output, at least 2 are needed");
    }
    const double step = options.theta * (bounds.hi - bounds.lo);
    const std::vector<std::size_t> target = detail::jsma_targets(net, x, y);

    std::vector<std::size_t> attempted;
    for (std::size_t i = 0; i < n; ++i) {
        if (r.samples[i].attempted) attempted.push_back(i);
    }
    std::vector<detail::JsmaPixelState> state(n);
    detail::JsmaBuffers<T> buf;
    // At most detail::inference_chunk inputs run at a time (memory stays bounded for large
    // N); an input that ends is replaced by the next one, so the batches stay full. Every
    // input's result is independent of the others it runs with.
    std::vector<std::size_t> running;
    std::size_t next = 0;
    while (next < attempted.size() || !running.empty()) {
        for (; running.size() < detail::inference_chunk && next < attempted.size(); ++next) {
            auto& s = state[attempted[next]];
            s.steps.assign(d, 0);
            s.changes.assign(d, 0);
            s.active.assign(d, 1);
            running.push_back(attempted[next]);
        }
        const std::vector<std::size_t> before = running;
        if (!detail::jsma_iteration(net, x, options, step, target, hooks, r, state, running, buf)) running.clear();
        std::size_t k = 0;  // running is an ordered subsequence of before
        for (std::size_t i : before) {
            if (k < running.size() && running[k] == i)
                ++k;
            else
                state[i] = detail::JsmaPixelState();
        }
    }
    detail::verify_result(net, x, r, bounds);
    return r;
}

}  // namespace sleepnet
